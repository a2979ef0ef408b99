import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubeSkip, startKubeCluster, type KubeCluster } from "./kube-cluster.js";

const deployment = (name: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "harness" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "example.invalid/none:1" }], ...extra },
      },
    },
  });

void describe("kube test cluster (etcd, kube-apiserver, controllers, scheduler, kwok)", { skip: kubeSkip }, () => {
  let cluster: KubeCluster;
  before(async () => {
    cluster = await startKubeCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  void it("runs a Deployment's pod to Ready on a kwok node", async () => {
    const ns = await cluster.kubectl(["create", "namespace", "harness"]);
    assert.equal(ns.code, 0, ns.stderr);
    const applied = await cluster.kubectl(["apply", "-f", "-"], { input: deployment("web") });
    assert.equal(applied.code, 0, applied.stderr);
    // Deployment controller → ReplicaSet → pod → scheduler → kwok marks it Running and Ready.
    const waited = await cluster.kubectl(["-n", "harness", "rollout", "status", "deployment/web", "--timeout=90s"], {
      timeoutMs: 100_000,
    });
    assert.equal(waited.code, 0, waited.stderr);
    const pods = await cluster.kubectl(["-n", "harness", "get", "pods", "-l", "app=web", "-o", "json"]);
    const items = (JSON.parse(pods.stdout) as { items: { spec: { nodeName?: string }; status: { phase: string } }[] })
      .items;
    assert.equal(items.length, 1);
    assert.equal(items[0]?.status.phase, "Running");
    assert.equal(items[0]?.spec.nodeName, "kwok-cpu-0", "untolerated GPU taint keeps it off the GPU node");
  });

  void it("schedules a GPU pod onto the tainted GPU node only when it tolerates the taint", async () => {
    const gpu = {
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      nodeSelector: { "nvidia.com/gpu.present": "true" },
    };
    const spec = JSON.parse(deployment("trainer", gpu)) as {
      spec: { template: { spec: { containers: { resources?: object }[] } } };
    };
    spec.spec.template.spec.containers[0]!.resources = { limits: { "nvidia.com/gpu": "2" } };
    const applied = await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(spec) });
    assert.equal(applied.code, 0, applied.stderr);
    const waited = await cluster.kubectl(
      ["-n", "harness", "rollout", "status", "deployment/trainer", "--timeout=90s"],
      { timeoutMs: 100_000 },
    );
    assert.equal(waited.code, 0, waited.stderr);
    const node = await cluster.kubectl([
      "-n",
      "harness",
      "get",
      "pods",
      "-l",
      "app=trainer",
      "-o",
      "jsonpath={.items[0].spec.nodeName}",
    ]);
    assert.equal(node.stdout, "kwok-gpu-0");
  });

  void it("garbage-collects owner-referenced children when the owner goes", async () => {
    const del = await cluster.kubectl(
      ["-n", "harness", "delete", "deployment", "web", "--wait=true", "--timeout=60s"],
      {
        timeoutMs: 70_000,
      },
    );
    assert.equal(del.code, 0, del.stderr);
    const gone = await cluster.kubectl(
      ["-n", "harness", "wait", "--for=delete", "replicaset", "-l", "app=web", "--timeout=60s"],
      { timeoutMs: 70_000 },
    );
    assert.equal(gone.code, 0, gone.stderr);
  });

  void it("gives a service account exactly its RBAC through kubeconfigFor", async () => {
    assert.equal((await cluster.kubectl(["-n", "harness", "create", "serviceaccount", "reader"])).code, 0);
    const path = await cluster.kubeconfigFor("harness", "reader");
    const denied = await cluster.kubectl(["--kubeconfig", path, "-n", "harness", "get", "pods"]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden/);
    await cluster.kubectl(["-n", "harness", "create", "role", "pod-reader", "--verb=get,list", "--resource=pods"]);
    await cluster.kubectl([
      "-n",
      "harness",
      "create",
      "rolebinding",
      "reader",
      "--role=pod-reader",
      "--serviceaccount=harness:reader",
    ]);
    const allowed = await cluster.kubectl(["--kubeconfig", path, "-n", "harness", "get", "pods"]);
    assert.equal(allowed.code, 0, allowed.stderr);
  });
});
