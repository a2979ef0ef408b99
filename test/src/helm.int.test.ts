import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseDocument } from "yaml";
import { REPO_ROOT, SpecError, parseExperimentManifest } from "@sluice/common";
import {
  kubeSkip,
  kubeToolVersions,
  runCommand,
  startKubeCluster,
  type ExecResult,
  type KubeCluster,
} from "@sluice/common/internal";

// The Helm chart and the RLExperiment CRD against a real kube-apiserver: lint, server-side
// dry-run of everything the chart renders, a real install with least-privilege RBAC checks, and
// the CRD's schema / CEL rules accepting the shipped example and rejecting broken ones with the
// same complaint `sluice validate` makes.

const CHART = join(REPO_ROOT, "helm", "sluice");
const CRD = join(CHART, "crds-generated", "rlexperiment.yaml");
const EXAMPLE = readFileSync(join(REPO_ROOT, "examples", "k8s", "rlexperiment.yaml"), "utf8");
const RELEASE_NS = "sluice-system";
const KUBE_VERSION = kubeToolVersions()["kubernetes"] ?? "v1.34.4";
const EXP_NS = "experiments";
const OPERATOR_SA = `system:serviceaccount:${RELEASE_NS}:sluice-operator`;
/** Every optional part of the chart switched on, two operator replicas. */
const ALL_ON = [
  "--set=operator.replicas=2",
  "--set=metrics.serviceMonitor.enabled=true",
  "--set=metrics.podMonitor.enabled=true",
  "--set=metrics.prometheusRule.enabled=true",
  "--set=grafana.dashboards.enabled=true",
];

/** The example with fields changed (dotted paths under spec; undefined deletes one). */
function exampleWith(path: string, value: unknown, name = "broken", more: [string, unknown][] = []): string {
  const doc = parseDocument(EXAMPLE);
  doc.setIn(["metadata", "name"], name);
  for (const [p, v] of [[path, value] as [string, unknown], ...more]) {
    const keys = p.split(".");
    if (v === undefined) doc.deleteIn(["spec", ...keys]);
    else doc.setIn(["spec", ...keys], v);
  }
  return doc.toString();
}

void describe("Helm chart and RLExperiment CRD on a real API server", { skip: kubeSkip }, () => {
  let cluster: KubeCluster;
  let helmHome: string;
  const helm = (args: string[], timeoutMs = 120_000): Promise<ExecResult> =>
    runCommand(cluster.tools.helm, args, {
      timeoutMs,
      env: {
        ...process.env,
        KUBECONFIG: cluster.kubeconfig,
        HELM_CACHE_HOME: join(helmHome, "cache"),
        HELM_CONFIG_HOME: join(helmHome, "config"),
        HELM_DATA_HOME: join(helmHome, "data"),
      },
    });
  const ok = (r: ExecResult, what: string): void => assert.equal(r.code, 0, `${what}:\n${r.stderr}${r.stdout}`);

  before(async () => {
    helmHome = mkdtempSync(join(tmpdir(), "sluice-helm-"));
    // Admission and validation only: no controllers, scheduler or nodes needed (faster start).
    cluster = await startKubeCluster({ controllerManager: false, scheduler: false, kwok: false });
    for (const ns of [RELEASE_NS, EXP_NS]) ok(await cluster.kubectl(["create", "namespace", ns]), `namespace ${ns}`);
    const fixtures = join(REPO_ROOT, "fixtures", "k8s", "monitoring-crds.yaml");
    ok(await cluster.kubectl(["apply", "-f", fixtures]), "monitoring CRDs");
    ok(await cluster.kubectl(["apply", "--server-side", "-f", CRD]), "RLExperiment CRD");
    const established = ["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"];
    ok(await cluster.kubectl(established, { timeoutMs: 70_000 }), "CRDs established");
  });
  after(async () => {
    await cluster?.stop();
    if (helmHome) rmSync(helmHome, { recursive: true, force: true });
  });

  void it("passes helm lint, with every option on too", async () => {
    ok(await helm(["lint", "--strict", CHART]), "helm lint");
    ok(await helm(["lint", "--strict", CHART, ...ALL_ON]), "helm lint (all on)");
  });

  void it("rejects values the schema forbids", async () => {
    const bad = await helm(["lint", CHART, "--set=operator.replicas=0"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr + bad.stdout, /replicas/);
    const noNats = await helm(["lint", CHART, "--set=nats.enabled=false"]);
    assert.notEqual(noNats.code, 0, "an external NATS needs nats.url");
  });

  for (const [name, extra] of [
    ["every option on", ALL_ON],
    [
      "one watched namespace, external NATS, no CRD",
      [
        `--set=operator.watchNamespace=${EXP_NS}`,
        "--set=nats.enabled=false",
        "--set=nats.url=nats://nats.example:4222",
        "--set=crds.enabled=false",
      ],
    ],
  ] as const) {
    void it(`renders objects the API server accepts (kubectl apply --dry-run=server): ${name}`, async () => {
      // --kube-version: without a cluster, helm template assumes an old Kubernetes the chart refuses.
      const rendered = await helm([
        "template",
        "sluice",
        CHART,
        "-n",
        RELEASE_NS,
        `--kube-version=${KUBE_VERSION}`,
        ...extra,
      ]);
      ok(rendered, "helm template");
      const applied = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: rendered.stdout });
      ok(applied, "dry-run apply");
      for (const kind of [
        "deployment.apps/sluice-operator",
        "clusterrole.rbac.authorization.k8s.io/sluice-sandbox-pods",
      ])
        assert.match(applied.stdout, new RegExp(kind.replace(/\./g, "\\.")));
      if (name === "every option on") {
        for (const kind of ["servicemonitor", "podmonitor", "prometheusrule", "statefulset.apps/sluice-nats"])
          assert.match(applied.stdout, new RegExp(kind.replace(/\./g, "\\.")));
        assert.match(rendered.stdout, /grafana_dashboard: "1"/);
        assert.match(rendered.stdout, /helm\.sh\/resource-policy: keep/);
        assert.match(rendered.stdout, /name: SLUICE_OPERATOR_LEADER_ELECTION\s+value: "true"/);
      }
    });
  }

  void it("installs, and the operator's service account has exactly the access it needs", async () => {
    // The CRD is already there (installed above), so this release leaves it out.
    ok(await helm(["install", "sluice", CHART, "-n", RELEASE_NS, "--set=crds.enabled=false"]), "helm install");
    const can = async (verb: string, resource: string, ns = EXP_NS): Promise<boolean> => {
      const args = ["auth", "can-i", verb, resource, `--as=${OPERATOR_SA}`, ...(ns ? ["-n", ns] : [])];
      return (await cluster.kubectl(args)).stdout.trim() === "yes";
    };
    const allowed: [string, string, string?][] = [
      ["watch", "rlexperiments.sluice.dev"],
      ["patch", "rlexperiments.sluice.dev/status"],
      ["update", "rlexperiments.sluice.dev/finalizers"],
      ["create", "deployments.apps"],
      ["delete", "jobs.batch"],
      ["patch", "services"],
      ["create", "configmaps"],
      ["create", "persistentvolumeclaims"],
      ["list", "pods"],
      ["create", "networkpolicies.networking.k8s.io"],
      ["create", "events"],
      ["create", "rolebindings.rbac.authorization.k8s.io"],
      ["bind", "clusterroles.rbac.authorization.k8s.io/sluice-sandbox-pods", ""],
      ["update", "leases.coordination.k8s.io", RELEASE_NS],
    ];
    for (const [verb, res, ns] of allowed) assert.ok(await can(verb, res, ns), `operator may ${verb} ${res}`);
    const denied: [string, string, string?][] = [
      ["get", "secrets"],
      ["delete", "pods"],
      ["create", "pods/exec"],
      ["create", "clusterrolebindings.rbac.authorization.k8s.io", ""],
      ["bind", "clusterroles.rbac.authorization.k8s.io/cluster-admin", ""],
      ["delete", "rlexperiments.sluice.dev"],
      ["update", "leases.coordination.k8s.io", EXP_NS],
      ["delete", "customresourcedefinitions.apiextensions.k8s.io", ""],
    ];
    for (const [verb, res, ns] of denied)
      assert.equal(await can(verb, res, ns), false, `operator may not ${verb} ${res}`);
  });

  void it("accepts the shipped example and lists it with the printer columns", async () => {
    ok(await cluster.kubectl(["apply", "-n", EXP_NS, "-f", "-"], { input: EXAMPLE }), "apply example");
    const status = {
      status: {
        phase: "Running",
        ready: "5/6",
        observedGeneration: 1,
        progress: { step: 7, policyVersion: 7, updatedAt: "2026-01-01T00:00:00Z" },
        conditions: [
          {
            type: "Progressing",
            status: "True",
            reason: "Training",
            message: "step 7",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      },
    };
    const patch = ["patch", "rlexp", "toy-k8s", "-n", EXP_NS, "--subresource=status", "--type=merge"];
    ok(await cluster.kubectl([...patch, "-p", JSON.stringify(status)]), "status patch");
    const table = await cluster.kubectl(["get", "rlexp", "-n", EXP_NS]);
    ok(table, "get rlexp");
    assert.match(table.stdout, /NAME\s+PHASE\s+STEP\s+VERSION\s+READY\s+AGE/);
    assert.match(table.stdout, /toy-k8s\s+Running\s+7\s+7\s+5\/6\s+/);
    const badReason = { status: { conditions: [{ ...status.status.conditions[0], reason: "not camel case" }] } };
    const rejected = await cluster.kubectl([...patch, "-p", JSON.stringify(badReason)]);
    assert.notEqual(rejected.code, 0, "a condition reason must be CamelCase");
  });

  // Each broken manifest: the API server's complaint, and `sluice validate` (zod) must refuse it too.
  const invalid: [string, string, RegExp][] = [
    ["steps below 1", exampleWith("steps", 0), /spec\.steps.*greater than or equal to 1/],
    [
      "guidance with no guidance kind",
      exampleWith("guidance", { enabled: true, environmentFeedback: { enabled: false } }),
      /guidance\.enabled needs at least one guidance kind enabled/,
    ],
    [
      "a feedback template with no placeholder",
      exampleWith("guidance.environmentFeedback.template", "try harder"),
      /environmentFeedback\.template.*must contain \{feedback\} or \{detail\}/,
    ],
    [
      "no evaluation tasks",
      exampleWith("evaluation.tasks", 0),
      /evaluation\.tasks.*(greater than or equal to 1|>=1|≥1)/,
    ],
    [
      "restarts without checkpoints",
      exampleWith("restart.maxRestarts", 2, "broken", [["learner.checkpointEvery", 0]]),
      /restart\.maxRestarts > 0 needs learner\.checkpointEvery >= 1/,
    ],
    [
      "group size above 1024",
      exampleWith("rollout.groupSize", 4096),
      /spec\.rollout\.groupSize.*less than or equal to 1024/,
    ],
    ["a misspelt field", exampleWith("rollout.groupsize", 8), /unknown field "spec\.rollout\.groupsize"/],
    ["model path missing", exampleWith("model.source", "path"), /model\.path is required when model\.source is 'path'/],
    [
      "vllm without a url",
      exampleWith("inference", { backend: "vllm" }),
      /inference\.url must be an http\(s\) URL when inference\.backend is vllm or sglang/,
    ],
    [
      "overlong cache past the max",
      exampleWith("reward.overlong", { maxLength: 100 }),
      /cacheLength must be below maxLength/,
    ],
    ["warm pool above max", exampleWith("components.sandboxes.pool.warmPods", 64), /warmPods must not exceed maxPods/],
    [
      "a GPU quantity that is not one",
      exampleWith("components.learner.resources.limits", { "nvidia.com/gpu": "two" }),
      /spec\.components\.learner\.resources\.limits\.nvidia\.com\/gpu: Invalid value: "two"/,
    ],
    [
      "a cleanup action that does not exist",
      exampleWith("runPolicy.cleanup.onSuccess", "Everything"),
      /Unsupported value: "Everything"/,
    ],
    [
      "negative backoff",
      exampleWith("runPolicy.backoffLimit", -1),
      /spec\.runPolicy\.backoffLimit.*greater than or equal to 0/,
    ],
    ["learner replicas above 1", exampleWith("components.learner.replicas", 2), /spec\.components\.learner\.replicas/],
    ["steps missing", exampleWith("steps", undefined), /spec\.steps: Required value/],
    [
      "a name NATS cannot use",
      exampleWith("seed", 1, "toy.v2"),
      /metadata\.name must be lowercase letters, digits and '-'/,
    ],
  ];
  for (const [what, manifest, message] of invalid) {
    void it(`rejects ${what}, and so does sluice validate`, async () => {
      const r = await cluster.kubectl(["apply", "-n", EXP_NS, "-f", "-"], { input: manifest });
      assert.notEqual(r.code, 0, `accepted:\n${manifest}`);
      assert.match(r.stderr, message);
      assert.throws(() => parseExperimentManifest(manifest), SpecError);
    });
  }

  const updates: [string, object, RegExp | undefined][] = [
    ["the model", { spec: { model: { name: "other" } } }, /model is immutable; create a new RLExperiment/],
    ["the algorithm", { spec: { algorithm: { advantage: "rloo" } } }, /algorithm is immutable/],
    ["the seed", { spec: { seed: 4 } }, /seed is immutable/],
    ["the environment", { spec: { environment: { name: "other" } } }, /environment\.name is immutable/],
    ["fewer steps", { spec: { steps: 10 } }, /steps can only grow/],
    ["suspend", { spec: { suspend: true } }, undefined],
    ["more steps", { spec: { steps: 500 } }, undefined],
    ["more actors", { spec: { components: { actors: { replicas: 4 } } } }, undefined],
  ];
  for (const [what, patch, message] of updates) {
    void it(`${message ? "refuses" : "allows"} changing ${what} of a running experiment`, async () => {
      const r = await cluster.kubectl([
        "patch",
        "rlexp",
        "toy-k8s",
        "-n",
        EXP_NS,
        "--type=merge",
        "-p",
        JSON.stringify(patch),
      ]);
      if (message) {
        assert.notEqual(r.code, 0, "patch accepted");
        assert.match(r.stderr, message);
      } else ok(r, `patch ${what}`);
    });
  }
});
