import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubeSkip, startKubeCluster, type KubeCluster } from "@sluice/common/internal";
import { sandboxPod } from "./pod-spec.js";

/** The hardened sandbox pod against a real API server: accepted and stored as written. */
void describe("sandbox pod spec on a real API server", { skip: kubeSkip }, () => {
  let cluster: KubeCluster;
  before(async () => {
    cluster = await startKubeCluster();
    const ns = await cluster.kubectl(["create", "namespace", "sbx"]);
    assert.equal(ns.code, 0, ns.stderr);
  });
  after(async () => cluster?.stop());

  void it("is accepted by the API server with every hardening field kept", async () => {
    const pod = sandboxPod({
      name: "sbx-0",
      namespace: "sbx",
      experiment: "exp",
      pool: "svc-0",
      image: "python:3.12-slim",
      execImage: "ghcr.io/sluice-rl/sluice:0.1.0",
      token: "t",
      activeDeadlineSeconds: 3600,
      limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "2Gi" },
    });
    const dry = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(pod) });
    assert.equal(dry.code, 0, dry.stderr);
    const created = await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
    assert.equal(created.code, 0, created.stderr);
    // Read back what the API server stored (defaulting and admission must not drop a hardening field).
    // Scheduling is not asserted: the harness's kwok nodes report no ephemeral-storage capacity, so a
    // pod that requests it stays Pending there (real nodes report it).
    const got = await cluster.kubectl(["get", "pod", "sbx-0", "-n", "sbx", "-o", "json"]);
    assert.equal(got.code, 0, got.stderr);
    const ready = JSON.parse(got.stdout) as {
      spec: Record<string, unknown> & {
        containers: { securityContext: Record<string, unknown>; resources: { limits: Record<string, string> } }[];
        securityContext: Record<string, unknown>;
      };
    };
    assert.equal(ready.spec.automountServiceAccountToken, false);
    assert.equal(ready.spec.activeDeadlineSeconds, 3600);
    assert.deepEqual(ready.spec.containers[0]!.securityContext.capabilities, { drop: ["ALL"] });
    assert.equal(ready.spec.containers[0]!.securityContext.readOnlyRootFilesystem, true);
    assert.equal(ready.spec.containers[0]!.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(ready.spec.securityContext.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(ready.spec.containers[0]!.resources.limits["ephemeral-storage"], "2Gi");
  });
});
