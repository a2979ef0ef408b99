import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { classificationReward, positiveProbability } from "./classification.js";

void describe("ONI classification threshold", () => {
  test("r_int = 1[p₁ > 0.5] is strict at the threshold", () => {
    assert.equal(classificationReward(0.5), 0);
    assert.equal(classificationReward(0.500001), 1);
    assert.equal(classificationReward(0.2), 0);
  });

  test("a configured τ moves the boundary", () => {
    assert.equal(classificationReward(0.7, 0.8), 0);
    assert.equal(classificationReward(0.9, 0.8), 1);
  });

  test("p₁ from logits (0, ln 3) is 0.75", () => {
    assert.ok(Math.abs(positiveProbability(0, Math.log(3)) - 0.75) < 1e-12);
  });
});
