import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupAdvantages } from "./advantages.js";
import { turnAdvantages } from "./turn-advantages.js";

describe("turnAdvantages", () => {
  it("normalises each turn index over the group separately", () => {
    // Turn 0: member 0 right, member 1 wrong; turn 1: the opposite.
    const adv = turnAdvantages(
      [
        [1, 0],
        [0, 1],
      ],
      { estimator: "grpo", stdNormalization: "population" },
    );
    assert.ok(adv[0]![0]! > 0.99 && adv[0]![1]! < -0.99);
    assert.ok(adv[1]![0]! < -0.99 && adv[1]![1]! > 0.99);
  });

  it("uses only the members that reached a turn", () => {
    const adv = turnAdvantages([[1, 1, 0.5], [0, 1], [0.5]], { estimator: "dr_grpo" });
    assert.deepEqual(adv[0], [0.5, 0, 0]);
    assert.deepEqual(adv[1], [-0.5, 0]);
    assert.deepEqual(adv[2], [0]);
  });

  it("equals episode-level advantages when every episode has one turn", () => {
    const rewards = [0.2, 0.9, 0.4, 0.4];
    const o = { estimator: "grpo", stdNormalization: "sample" } as const;
    assert.deepEqual(
      turnAdvantages(
        rewards.map((r) => [r]),
        o,
      ).map((a) => a[0]),
      groupAdvantages(rewards, o),
    );
  });
});
