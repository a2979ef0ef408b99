import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { learnerGrpcService, toGetStatusResponse } from "./learner-service.js";

void describe("LearnerService", () => {
  void it("reports the learner's counters as a GetStatusResponse", () => {
    const res = toGetStatusResponse({
      step: 3,
      policyVersion: 3,
      trajectoriesTrained: 24,
      trajectoriesDropped: { stale: 2, infra_sandbox_error: 1 },
      rewardMeanByStep: [0.1, 0.2, 0.3],
      completionRateByStep: [1, 0.5, 0.25],
      finished: true,
    });
    assert.deepEqual(res, {
      step: 3,
      policyVersion: 3,
      trajectoriesTrained: 24,
      trajectoriesDropped: { stale: 2, infra_sandbox_error: 1 },
      rewardMeanByStep: [0.1, 0.2, 0.3],
      completionRateByStep: [1, 0.5, 0.25],
      finished: true,
    });
  });

  void it("answers GetStatus through the unary handler", async () => {
    const reg = learnerGrpcService({
      getStatus: () => ({
        step: 1,
        policyVersion: 1,
        trajectoriesTrained: 2,
        trajectoriesDropped: {},
        rewardMeanByStep: [1],
        completionRateByStep: [0.5],
        finished: false,
      }),
    });
    assert.equal(reg.name, "sluice.v1.LearnerService");
    const handler = reg.implementation.getStatus as (
      call: { request: unknown },
      cb: (err: unknown, res: unknown) => void,
    ) => void;
    const res = await new Promise((resolve, reject) =>
      handler({ request: {} }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    assert.equal((res as { trajectoriesTrained: number }).trajectoriesTrained, 2);
  });
});
