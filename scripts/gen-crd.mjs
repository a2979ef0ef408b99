// Generates the RLExperiment CustomResourceDefinition from the zod schemas `sluice up` reads
// (services/common/src/spec/schema.ts + kubernetes.ts), so a local spec file and the resource
// never drift. Needs the common package built (`npx tsc -b services/common`).
//   node scripts/gen-crd.mjs            write helm/sluice/templates/crd-rlexperiment.yaml and
//                                        helm/sluice/crds-generated/rlexperiment.yaml (plain YAML)
//   node scripts/gen-crd.mjs --check    exit 1 when the committed files differ from the generated ones
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { z } from "zod";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { rlExperimentSpecSchema, rlExperimentStatusSchema } = await import(
  join(root, "services/common/dist/spec/kubernetes.js")
);

export const GROUP = "sluice.dev";
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * CEL rules for what zod checks with `.refine` (opaque functions the JSON schema cannot carry), and
 * for what only matters on update (immutability). Keyed by the dotted path under `spec`. Messages
 * repeat the zod ones so `kubectl apply` and `sluice validate` say the same thing.
 * `d(field)` reads the field with its zod default, because the CRD applies no defaults.
 */
const RULES = {
  "": (d) => [
    { rule: "has(self.model) == has(oldSelf.model)", message: "model is immutable; create a new RLExperiment" },
    {
      rule: "has(self.algorithm) == has(oldSelf.algorithm)",
      message: "algorithm is immutable; create a new RLExperiment",
    },
    { rule: "has(self.seed) == has(oldSelf.seed)", message: "seed is immutable; create a new RLExperiment" },
    {
      rule: `${d("restart", "maxRestarts")} == 0 || ${d("learner", "checkpointEvery")} >= 1`,
      message:
        "restart.maxRestarts > 0 needs learner.checkpointEvery >= 1 (a restarted learner resumes from a checkpoint)",
    },
  ],
  restart: (d) => [
    {
      rule: `${d("maxBackoffMs")} >= ${d("backoffMs")}`,
      message: "restart.maxBackoffMs must be at least restart.backoffMs",
    },
  ],
  guidance: (d) => [
    {
      rule: `!${d("enabled")} || ${d("environmentFeedback", "enabled")} || ${d("planHints", "enabled")} || ${d("interactionHints", "enabled")}`,
      message: "guidance.enabled needs at least one guidance kind enabled",
    },
  ],
  "guidance.environmentFeedback.template": () => [
    {
      rule: "self.contains('{feedback}') || self.contains('{detail}')",
      message: "must contain {feedback} or {detail}",
    },
  ],
  model: (d) => [
    { rule: "self == oldSelf", message: "model is immutable; create a new RLExperiment" },
    {
      rule: `${d("source")} != 'path' || (has(self.path) && size(self.path) > 0)`,
      message: "model.path is required when model.source is 'path'",
    },
  ],
  algorithm: () => [{ rule: "self == oldSelf", message: "algorithm is immutable; create a new RLExperiment" }],
  seed: () => [{ rule: "self == oldSelf", message: "seed is immutable; create a new RLExperiment" }],
  environment: () => [
    { rule: "self.name == oldSelf.name", message: "environment.name is immutable; create a new RLExperiment" },
  ],
  steps: () => [{ rule: "self >= oldSelf", message: "steps can only grow (a run cannot be shortened)" }],
  "reward.overlong": (d) => [
    { rule: `${d("cacheLength")} < ${d("maxLength")}`, message: "cacheLength must be below maxLength" },
  ],
  inference: (d) => [
    {
      rule: `${d("backend")} == 'engine' || (has(self.url) && self.url.matches('^https?://[^/]'))`,
      message: "inference.url must be an http(s) URL when inference.backend is vllm or sglang",
    },
  ],
  "components.sandboxes.pool": (d) => [
    { rule: `${d("warmPods")} <= ${d("maxPods")}`, message: "warmPods must not exceed maxPods" },
  ],
  "reward.prm.scoreRange": () => [
    { rule: "self[0] <= self[1]", message: "scoreRange must be [low, high] with low <= high" },
  ],
};

/** `(has(self.a.b) ? self.a.b : <zod default>)`, the default read from the JSON schema. */
function defaulted(node, path) {
  return (...fields) => {
    let n = node;
    for (const f of fields) n = n?.properties?.[f];
    if (n === undefined) throw new Error(`gen-crd: no field ${[...path, ...fields].join(".")}`);
    const sel = ["self", ...fields].join(".");
    const has = fields.map((_, i) => `has(${["self", ...fields.slice(0, i + 1)].join(".")})`).join(" && ");
    return n.default === undefined ? sel : `(${has} ? ${sel} : ${JSON.stringify(n.default).replace(/"/g, "'")})`;
  };
}

function attachRules(spec) {
  for (const [path, make] of Object.entries(RULES)) {
    const parts = path === "" ? [] : path.split(".");
    let node = spec;
    for (const p of parts) node = node?.properties?.[p];
    if (node === undefined) throw new Error(`gen-crd: CEL rule for missing field spec.${path}`);
    node["x-kubernetes-validations"] = [...(node["x-kubernetes-validations"] ?? []), ...make(defaulted(node, parts))];
  }
}

/**
 * JSON Schema (zod, OpenAPI 3.0 target) → a Kubernetes structural schema: every node typed, no
 * `additionalProperties: false` next to properties (unknown fields are rejected by kubectl's
 * strict field validation instead), no defaults (zod owns them), no anyOf of types except the
 * int-or-string pattern; free-form maps are preserve-unknown-fields.
 */
function structural(node) {
  if (Array.isArray(node)) return node.map(structural);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (["default", "$schema", "propertyNames", "examples", "id"].includes(k)) continue;
    out[k] = structural(v);
  }
  if (out["x-kubernetes-int-or-string"]) {
    const pattern = out.anyOf?.find((b) => b.pattern)?.pattern;
    return pick(out, ["description", "x-kubernetes-validations"], {
      anyOf: [{ type: "integer" }, { type: "string" }],
      ...(pattern ? { pattern } : {}),
      "x-kubernetes-int-or-string": true,
    });
  }
  if (out.anyOf) {
    const types = new Set(out.anyOf.map((b) => b.type));
    if (types.size === 1 && !out.anyOf.some((b) => b.enum || b.properties)) {
      // e.g. a tuple of numbers: every branch the same scalar type.
      Object.assign(out, out.anyOf[0]);
      delete out.anyOf;
    } else {
      // number | enum-string (a G-RA gate threshold): a structural schema cannot type it, and CEL
      // cannot see an untyped field, so the API server takes any value here and the zod schema
      // (operator, services) rejects a bad one with the field's path.
      delete out.anyOf;
      out["x-kubernetes-preserve-unknown-fields"] = true;
    }
  }
  if (out.additionalProperties === false) delete out.additionalProperties;
  if (out.additionalProperties && Object.keys(out.additionalProperties).length === 0) {
    delete out.additionalProperties;
    out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  if (out["x-kubernetes-preserve-unknown-fields"]) delete out.additionalProperties;
  if (out.type === "integer") {
    if (out.maximum === MAX_SAFE) delete out.maximum;
    if (out.minimum === -MAX_SAFE) delete out.minimum;
  }
  return out;
}

function pick(obj, keys, base) {
  for (const k of keys) if (obj[k] !== undefined) base[k] = obj[k];
  return base;
}

export function generateCrd() {
  const opts = { target: "openapi-3.0", io: "input", unrepresentable: "throw" };
  const specJson = z.toJSONSchema(rlExperimentSpecSchema, opts);
  attachRules(specJson);
  const spec = structural(specJson);
  spec.description = "the experiment spec `sluice up` reads, plus how it runs on Kubernetes";
  const status = structural(z.toJSONSchema(rlExperimentStatusSchema, opts));
  const col = (name, type, jsonPath, description, priority) => ({
    name,
    type,
    jsonPath,
    description,
    ...(priority ? { priority } : {}),
  });
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `rlexperiments.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: "RLExperiment",
        listKind: "RLExperimentList",
        plural: "rlexperiments",
        singular: "rlexperiment",
        shortNames: ["rlexp"],
        categories: ["sluice"],
      },
      scope: "Namespaced",
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            col("Phase", "string", ".status.phase", "Pending, Running, Suspended, Succeeded or Failed"),
            col("Step", "integer", ".status.progress.step", "learner steps done"),
            col("Version", "integer", ".status.progress.policyVersion", "policy version served"),
            col("Ready", "string", ".status.ready", "components ready / wanted"),
            col("Age", "date", ".metadata.creationTimestamp"),
            col("Steps", "integer", ".spec.steps", "learner steps to run", 1),
            col("Model", "string", ".spec.model.name", "model name", 1),
          ],
          schema: {
            openAPIV3Schema: {
              description:
                "RLExperiment: one reinforcement-learning run of Sluice (actors, sandboxes, reward, learner, inference)",
              type: "object",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec,
                status,
              },
              "x-kubernetes-validations": [
                {
                  // NATS subjects and stream names are built from the experiment name.
                  rule: "self.metadata.name.matches('^[a-z0-9][a-z0-9-]{0,62}$')",
                  message: "metadata.name must be lowercase letters, digits and '-', at most 63 characters",
                },
              ],
            },
          },
        },
      ],
    },
  };
}

const HEADER = "# GENERATED by scripts/gen-crd.mjs from services/common/src/spec/*.ts; do not edit.\n";

export function renderFiles() {
  const body = stringify(generateCrd(), { lineWidth: 0 });
  const plain = HEADER + body;
  // In the chart: guarded by crds.enabled and kept on `helm uninstall` (deleting the CRD would
  // delete every RLExperiment in the cluster).
  const meta = "metadata:\n  name: rlexperiments.sluice.dev\n";
  if (!body.includes(meta)) throw new Error("gen-crd: unexpected metadata layout");
  const templated = body.replace(
    meta,
    "metadata:\n  name: rlexperiments.sluice.dev\n  annotations:\n    helm.sh/resource-policy: keep\n" +
      '  labels:\n    {{- include "sluice.labels" . | nindent 4 }}\n',
  );
  return {
    "helm/sluice/crds-generated/rlexperiment.yaml": plain,
    "helm/sluice/templates/crd-rlexperiment.yaml":
      HEADER + "{{- if .Values.crds.enabled }}\n" + templated + "{{- end }}\n",
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = renderFiles();
  const check = process.argv.includes("--check");
  let stale = [];
  for (const [rel, text] of Object.entries(files)) {
    const path = join(root, rel);
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current === text) continue;
    if (check) stale.push(rel);
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`wrote ${rel}`);
    }
  }
  if (stale.length > 0) {
    console.error(`gen-crd: out of date (run node scripts/gen-crd.mjs): ${stale.join(", ")}`);
    process.exit(1);
  }
}
