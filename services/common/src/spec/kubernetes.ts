import { z } from "zod";
import { experimentSpecSchema } from "./schema.js";

/**
 * What an `RLExperiment` custom resource adds to the experiment spec: how each component runs on
 * Kubernetes, `suspend`, the run policy, and the status the operator writes. The CRD is generated
 * from these schemas plus `experimentSpecSchema` (`scripts/gen-crd.mjs`), so a local spec file and
 * the resource cannot drift; `sluice up` ignores everything here.
 *
 * Kubernetes-only metadata (`x-kubernetes-*`) rides on `.meta()` and lands in the generated OpenAPI
 * schema; defaults stay in zod (the operator parses the spec with these schemas, like `sluice up`),
 * so the CRD carries none and a stored object means what its author wrote.
 */

/** A resource.Quantity: an integer or a string like "500m", "16Gi" (the same pattern Kubernetes uses). */
const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
const quantitySchema = z
  .union([z.number().int().min(0), z.string().regex(QUANTITY, "must be a Kubernetes quantity such as 500m or 16Gi")])
  .meta({ "x-kubernetes-int-or-string": true });

const resourceListSchema = z
  .record(z.string(), quantitySchema)
  .describe('resource name → quantity, e.g. {cpu: "4", memory: 16Gi, nvidia.com/gpu: 1}');

export const resourceRequirementsSchema = z
  .object({
    requests: resourceListSchema.optional(),
    limits: resourceListSchema.optional(),
  })
  .strict()
  .describe("container resources (requests / limits), as in a Pod; GPUs are the extended resource nvidia.com/gpu");

export const tolerationSchema = z
  .object({
    key: z.string().optional(),
    operator: z.enum(["Exists", "Equal"]).optional(),
    value: z.string().optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict();

/** A partial PodTemplateSpec merged over the one the operator builds (strategic-merge semantics). */
const podTemplateOverrideSchema = z
  .record(z.string(), z.unknown())
  .meta({ "x-kubernetes-preserve-unknown-fields": true })
  .describe(
    "partial PodTemplateSpec (metadata, spec) merged over the operator's template: containers by name, extra volumes, sidecars, securityContext; not validated beyond being an object",
  );

const componentFields = {
  image: z.string().min(1).optional().describe("container image of the component; default: the chart's image"),
  resources: resourceRequirementsSchema.optional(),
  nodeSelector: z.record(z.string(), z.string()).optional().describe("pod node selector, e.g. GPU node labels"),
  tolerations: z.array(tolerationSchema).optional().describe("pod tolerations, e.g. for tainted GPU nodes"),
  podTemplate: podTemplateOverrideSchema.optional(),
};

const replicas = (what: string, max: number) =>
  z.number().int().min(0).max(max).optional().describe(`${what}; 0 while suspended in effect`);

export const componentSchema = z
  .object({ replicas: replicas("pods of the component; default 1", 1024), ...componentFields })
  .strict();

const actorsComponentSchema = z
  .object({ replicas: replicas("actor pods; default rollout.actors", 1024), ...componentFields })
  .strict();

const learnerComponentSchema = z
  .object({
    replicas: z
      .number()
      .int()
      .min(1)
      .max(1)
      .optional()
      .describe("learner pods (learner + engine containers in one Job); one today; default 1"),
    ...componentFields,
  })
  .strict();

const sandboxPoolSchema = z
  .object({
    warmPods: z.number().int().min(0).max(10_000).default(0).describe("idle sandbox pods kept ready; default 0"),
    maxPods: z.number().int().min(1).max(10_000).default(64).describe("sandbox pods at once; default 64"),
    runtimeClassName: z.string().min(1).optional().describe("e.g. gvisor or kata; default the cluster's runtime"),
    activeDeadlineSeconds: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("a sandbox pod is killed after this long whatever it is doing; default none"),
    resources: resourceRequirementsSchema.optional(),
    nodeSelector: z.record(z.string(), z.string()).optional(),
    tolerations: z.array(tolerationSchema).optional(),
    podTemplate: podTemplateOverrideSchema.optional(),
  })
  .strict()
  // The CRD repeats this as a CEL rule (scripts/gen-crd.mjs).
  .refine((p) => p.warmPods <= p.maxPods, { message: "warmPods must not exceed maxPods", path: ["warmPods"] });

const sandboxesComponentSchema = z
  .object({
    replicas: replicas("sandbox service pods; default 1", 1024),
    ...componentFields,
    pool: sandboxPoolSchema.optional().describe("the warm pool of sandbox pods (Kubernetes sandbox backend)"),
  })
  .strict();

export const componentsSchema = z
  .object({
    inference: componentSchema
      .optional()
      .describe("vLLM / SGLang server when inference.backend is vllm or sglang (give it nvidia.com/gpu)"),
    gateway: componentSchema.optional(),
    actors: actorsComponentSchema.optional(),
    sandboxes: sandboxesComponentSchema.optional(),
    reward: componentSchema.optional(),
    learner: learnerComponentSchema.optional().describe("the learner and its engine (one Job)"),
  })
  .strict()
  .describe("how each component runs on Kubernetes; every block is optional");

/** What the operator deletes when the experiment finishes. */
export const cleanupActionSchema = z
  .enum(["None", "DeleteWorkloads", "DeleteAll"])
  .describe(
    "None: keep everything; DeleteWorkloads: delete pods, Deployments, the Job and Services, keep the NATS streams and checkpoints; DeleteAll: also delete the experiment's NATS streams, KV and object buckets",
  );

export const runPolicySchema = z
  .object({
    activeDeadlineSeconds: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("the experiment fails (reason DeadlineExceeded) when running longer than this; default none"),
    backoffLimit: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe("learner pod failures before the experiment fails; default 3"),
    ttlSecondsAfterFinished: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("delete the RLExperiment this long after it completed or failed; default never"),
    cleanup: z
      .object({
        onSuccess: cleanupActionSchema.default("DeleteWorkloads"),
        onFailure: cleanupActionSchema.default("None").describe("default None: keep everything to debug"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The blocks an RLExperiment adds to the experiment spec (`sluice up` validates and ignores them). */
export const kubernetesBlocksSchema = z
  .object({
    suspend: z
      .boolean()
      .default(false)
      .describe("true scales every workload to zero and keeps the streams; false resumes from the last checkpoint"),
    runPolicy: runPolicySchema.prefault({}),
    components: componentsSchema.prefault({}),
  })
  .strict();

// safeExtend: the experiment spec carries cross-field refinements, which plain extend refuses.
export const rlExperimentSpecSchema = experimentSpecSchema.safeExtend(kubernetesBlocksSchema.shape);

export const RL_EXPERIMENT_PHASES = ["Pending", "Running", "Suspended", "Succeeded", "Failed"] as const;

/** metav1.Condition. */
export const conditionSchema = z
  .object({
    type: z.string().min(1).max(316),
    status: z.enum(["True", "False", "Unknown"]),
    observedGeneration: z.number().int().min(0).optional(),
    lastTransitionTime: z.string().meta({ format: "date-time" }),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
    message: z.string().max(32768),
  })
  .strict();

const componentStatusSchema = z
  .object({
    replicas: z.number().int().min(0).describe("pods wanted"),
    ready: z.number().int().min(0).describe("pods ready"),
  })
  .strict();

export const rlExperimentStatusSchema = z
  .object({
    phase: z.enum(RL_EXPERIMENT_PHASES).optional(),
    observedGeneration: z.number().int().min(0).optional(),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
      .describe("Admitted, ComponentsReady, Progressing, Degraded, Suspended, Complete, Failed"),
    ready: z.string().optional().describe('components ready / components wanted, e.g. "5/6" (the Ready column)'),
    components: z
      .object({
        inference: componentStatusSchema.optional(),
        gateway: componentStatusSchema.optional(),
        actors: componentStatusSchema.optional(),
        sandboxes: componentStatusSchema.optional(),
        reward: componentStatusSchema.optional(),
        learner: componentStatusSchema.optional(),
      })
      .strict()
      .optional(),
    progress: z
      .object({
        step: z.number().int().min(0),
        policyVersion: z.number().int().min(0),
        lastCheckpoint: z
          .object({ step: z.number().int().min(0), time: z.string().meta({ format: "date-time" }) })
          .strict()
          .optional(),
        updatedAt: z.string().meta({ format: "date-time" }).optional().describe("written at most every ~15 s"),
      })
      .strict()
      .optional(),
    startTime: z.string().meta({ format: "date-time" }).optional(),
    completionTime: z.string().meta({ format: "date-time" }).optional(),
  })
  .strict();

export type RLExperimentSpec = z.infer<typeof rlExperimentSpecSchema>;
export type RLExperimentStatus = z.infer<typeof rlExperimentStatusSchema>;
export type ComponentSpec = z.infer<typeof componentSchema>;
export type RunPolicy = z.infer<typeof runPolicySchema>;
export type CleanupAction = z.infer<typeof cleanupActionSchema>;
export type RLExperimentPhase = (typeof RL_EXPERIMENT_PHASES)[number];
