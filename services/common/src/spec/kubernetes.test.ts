import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rlExperimentSpecSchema } from "./kubernetes.js";

const base = { steps: 3, environment: { name: "digits" } };

void describe("rlExperimentSpecSchema", () => {
  void it("fills the Kubernetes defaults the operator relies on", () => {
    const s = rlExperimentSpecSchema.parse(base);
    assert.equal(s.suspend, false);
    assert.equal(s.runPolicy.backoffLimit, 3);
    assert.deepEqual(s.runPolicy.cleanup, { onSuccess: "DeleteWorkloads", onFailure: "None" });
    assert.deepEqual(s.components, {});
    assert.equal(s.rollout.groupSize, 8, "the experiment spec's own defaults too");
  });

  void it("accepts quantities as numbers or Kubernetes strings and refuses anything else", () => {
    const gpu = (v: unknown) => ({
      ...base,
      components: { learner: { resources: { limits: { "nvidia.com/gpu": v } } } },
    });
    assert.ok(rlExperimentSpecSchema.safeParse(gpu(1)).success);
    assert.ok(rlExperimentSpecSchema.safeParse(gpu("500m")).success);
    assert.equal(rlExperimentSpecSchema.safeParse(gpu("two")).success, false);
  });

  void it("keeps the warm pool within its maximum", () => {
    const pool = (warmPods: number, maxPods: number) => ({
      ...base,
      components: { sandboxes: { pool: { warmPods, maxPods } } },
    });
    assert.ok(rlExperimentSpecSchema.safeParse(pool(4, 4)).success);
    const bad = rlExperimentSpecSchema.safeParse(pool(5, 4));
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? "", /warmPods must not exceed maxPods/);
  });

  void it("rejects unknown keys in the Kubernetes blocks like everywhere else", () => {
    const r = rlExperimentSpecSchema.safeParse({ ...base, components: { learner: { replica: 1 } } });
    assert.equal(r.success, false);
  });
});
