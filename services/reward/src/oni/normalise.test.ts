import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunningMeanStd, thresholdReward, transformRankingReward } from "./normalise.js";

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-6, `${a} != ${b}`);

void describe("ONI ranking reward normalisation and threshold", () => {
  test("running mean/std of 1,2,3,4 is 2.5 and √1.25", () => {
    const s = new RunningMeanStd();
    for (const x of [1, 2, 3, 4]) s.update(x);
    close(s.mean, 2.5);
    close(s.std, Math.sqrt(1.25));
    close(s.normalise(1), -1.341641);
  });

  test("r̂ · 1[r̂ > −0.5] zeroes values at or below −0.5", () => {
    assert.equal(thresholdReward(-1.3), 0);
    assert.equal(thresholdReward(-0.5), 0);
    close(thresholdReward(-0.4), -0.4);
    close(thresholdReward(2), 2);
  });

  test("both switches off (the public code's behaviour) return the raw value", () => {
    const s = new RunningMeanStd();
    assert.equal(transformRankingReward(-3, s, { normalise: false, threshold: false, thresholdValue: -0.5 }), -3);
    assert.equal(s.count, 0);
  });

  test("normalise then threshold", () => {
    const s = new RunningMeanStd();
    const cfg = { normalise: true, threshold: true, thresholdValue: -0.5 };
    for (const x of [1, 2, 3]) transformRankingReward(x, s, cfg);
    // after 1,2,3,4: μ 2.5, σ √1.25; r̂(4) = 1.341641 passes, r̂(1) later would not
    close(transformRankingReward(4, s, cfg), 1.341641);
    assert.equal(thresholdReward(s.normalise(1)), 0);
  });
});
