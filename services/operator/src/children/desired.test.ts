import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_OPERATOR_CONFIG } from "../config.js";
import { readExperiment } from "../experiment.js";
import type { KubeObject } from "../kube/types.js";
import { rlExperiment } from "../testing/fakes.js";
import { desiredChildren, type DesiredOptions } from "./desired.js";

const OPTS: DesiredOptions = {
  config: DEFAULT_OPERATOR_CONFIG,
  scaledDown: false,
  workloadsDeleted: false,
  useJobSet: false,
};

function build(spec: Record<string, unknown> = {}, o: Partial<DesiredOptions> = {}): KubeObject[] {
  const obj = rlExperiment("exp", "ns", spec);
  obj.metadata.uid = "uid-1";
  const exp = readExperiment(obj);
  assert.ok(exp.spec, exp.issues.join("; "));
  return desiredChildren(exp, exp.spec, { ...OPTS, ...o });
}

function find(children: KubeObject[], kind: string, name: string): KubeObject & { spec: Record<string, unknown> } {
  const c = children.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(c, `${kind} ${name}`);
  return c as KubeObject & { spec: Record<string, unknown> };
}

type Pod = { spec: { containers: Record<string, unknown>[]; nodeSelector?: object; tolerations?: object[] } };
const pod = (o: { spec: Record<string, unknown> }, job = false): Pod =>
  (job ? o.spec.template : (o.spec.template as Pod)) as Pod;

void describe("desiredChildren", () => {
  void it("builds config, volume, four Deployments, their Services and the learner Job, each owned by the experiment", () => {
    const all = build();
    assert.deepEqual(all.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      "ConfigMap/exp-config",
      "Deployment/exp-actors",
      "Deployment/exp-gateway",
      "Deployment/exp-reward",
      "Deployment/exp-sandboxes",
      "Job/exp-learner",
      "NetworkPolicy/exp-sandbox-pods",
      "PersistentVolumeClaim/exp-run",
      "Service/exp-gateway",
      "Service/exp-learner",
      "Service/exp-reward",
      "Service/exp-sandboxes",
    ]);
    for (const o of all) {
      assert.deepEqual(
        o.metadata.ownerReferences?.map((r) => [r.uid, r.controller]),
        [["uid-1", true]],
      );
      assert.equal(o.metadata.labels?.["sluice.dev/experiment"], "exp");
    }
  });

  void it("gives each service a runtime file that binds its own endpoint and names the others by Service DNS", () => {
    const cm = find(build(), "ConfigMap", "exp-config") as unknown as { data: Record<string, string> };
    const gw = JSON.parse(cm.data["runtime-gateway.json"]!);
    assert.equal(gw.services.gateway.host, "0.0.0.0");
    assert.equal(gw.services.engine.host, "exp-learner.ns.svc");
    assert.equal(gw.services.engine.grpcPort, 50061);
    const learner = JSON.parse(cm.data["runtime-learner.json"]!);
    assert.equal(learner.services.engine.host, "127.0.0.1", "the engine shares the learner's pod");
    assert.equal(learner.spec.suspend, undefined, "Kubernetes-only blocks stay out of the local spec");
  });

  void it("applies replicas, resources, node selector, tolerations and a strategic-merge pod override", () => {
    const all = build({
      components: {
        actors: { replicas: 5 },
        learner: {
          resources: { limits: { "nvidia.com/gpu": 1 } },
          nodeSelector: { "gpu.type": "h100" },
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
          podTemplate: {
            spec: { containers: [{ name: "learner", env: [{ name: "EXTRA", value: "1" }] }], priorityClassName: "hi" },
          },
        },
      },
    });
    assert.equal(find(all, "Deployment", "exp-actors").spec.replicas, 5);
    const job = find(all, "Job", "exp-learner");
    const p = pod(job, true) as Pod & { spec: { priorityClassName?: string } };
    assert.deepEqual(p.spec.nodeSelector, { "gpu.type": "h100" });
    assert.equal(p.spec.tolerations?.length, 1);
    assert.equal(p.spec.priorityClassName, "hi");
    const learner = p.spec.containers.find((c) => c.name === "learner")!;
    const engine = p.spec.containers.find((c) => c.name === "engine")!;
    assert.deepEqual(engine.resources, { limits: { "nvidia.com/gpu": 1 } }, "GPUs go to the engine container");
    assert.equal(learner.resources, undefined);
    assert.deepEqual(learner.env, [{ name: "EXTRA", value: "1" }], "the override merged into the container by name");
  });

  void it("gives the sandbox service its own ServiceAccount bound to the sandbox role, and isolates sandbox pods", () => {
    const all = build({}, { config: { ...DEFAULT_OPERATOR_CONFIG, sandboxRole: "sluice-sandbox" } });
    const rb = find(all, "RoleBinding", "exp-sandboxes") as unknown as { roleRef: { name: string } };
    assert.equal(rb.roleRef.name, "sluice-sandbox");
    const sandboxes = pod(find(all, "Deployment", "exp-sandboxes")) as Pod & { spec: Record<string, unknown> };
    assert.equal(sandboxes.spec.serviceAccountName, "exp-sandboxes");
    const env = (sandboxes.spec.containers[0]!.env as { name: string }[]).map((e) => e.name);
    assert.ok(env.includes("SLUICE_SANDBOX_K8S_POD_UID"), "the pool owns its pods through the service pod's uid");
    assert.equal(
      (pod(find(all, "Deployment", "exp-gateway")).spec as Record<string, unknown>).automountServiceAccountToken,
      false,
    );
    const np = find(all, "NetworkPolicy", "exp-sandbox-pods");
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(np.spec.egress, [], "no egress at all");
  });

  void it("starts the engine with the reference model beside the policy when the loss has a KL term", () => {
    const job = find(build({ algorithm: { klCoef: 0.05 } }), "Job", "exp-learner");
    const engine = pod(job, true).spec.containers.find((c) => c.name === "engine")!;
    const args = engine.args as string[];
    const spec = JSON.parse(args[args.indexOf("--model-spec") + 1]!) as { models: Record<string, unknown> };
    assert.deepEqual(Object.keys(spec.models), ["policy", "policy-ref"]);
  });

  void it("scales every Deployment to zero and suspends the Job when suspended", () => {
    const all = build({}, { scaledDown: true });
    for (const d of all.filter((o) => o.kind === "Deployment"))
      assert.equal((d.spec as { replicas: number }).replicas, 0);
    assert.equal(find(all, "Job", "exp-learner").spec.suspend, true);
  });

  void it("runs vLLM with a GPU for inference.backend vllm and points the runtime at its Service", () => {
    const all = build({
      model: { source: "path", path: "/models/qwen", lora: { r: 16 } },
      inference: { backend: "vllm", url: "http://placeholder:8000" },
    });
    const inf = find(all, "Deployment", "exp-inference");
    const c = pod(inf).spec.containers[0]!;
    assert.deepEqual(c.resources, { limits: { "nvidia.com/gpu": 1 } });
    assert.ok((c.args as string[]).includes("--enable-lora"));
    const cm = find(all, "ConfigMap", "exp-config") as unknown as { data: Record<string, string> };
    assert.equal(JSON.parse(cm.data["spec.json"]!).inference.url, "http://exp-inference.ns.svc:8000");
  });

  void it("uses a JobSet when its CRD is installed, and keeps only config and volume after cleanup", () => {
    const js = build({}, { useJobSet: true });
    assert.ok(js.some((o) => o.kind === "JobSet" && o.metadata.name === "exp-learner"));
    assert.ok(!js.some((o) => o.kind === "Job"));
    const cleaned = build({}, { workloadsDeleted: true });
    assert.deepEqual(cleaned.map((o) => o.kind).sort(), ["ConfigMap", "PersistentVolumeClaim"]);
  });

  void it("rolls Deployments when the spec changes but not on suspend (the config hash ignores it)", () => {
    const hash = (all: KubeObject[]) =>
      (find(all, "Deployment", "exp-gateway").spec.template as { metadata: { annotations: Record<string, string> } })
        .metadata.annotations["sluice.dev/config-hash"];
    assert.equal(hash(build()), hash(build({ suspend: true })));
    assert.notEqual(hash(build()), hash(build({ steps: 7 })));
  });
});
