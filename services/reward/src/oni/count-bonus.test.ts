import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EpisodeCounter, combineEpisode, combineReward, countBonus } from "./count-bonus.js";

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

void describe("ONI episodic count bonus", () => {
  test("N^(−β) with β = 3 gives 1, 1/8, 1/27", () => {
    close(countBonus(1, 3), 1);
    close(countBonus(2, 3), 0.125);
    close(countBonus(3, 3), 1 / 27);
  });

  test("rejects a count below one", () => {
    assert.throws(() => countBonus(0, 3), RangeError);
  });

  test("counter includes the current occurrence and resets per episode", () => {
    const c = new EpisodeCounter();
    assert.equal(c.observe("a"), 1);
    assert.equal(c.observe("a"), 2);
    assert.equal(c.observe("b"), 1);
    c.reset();
    assert.equal(c.observe("a"), 1);
  });

  test("default weights c_ext = 1, c_int = 0 leave the extrinsic reward unchanged", () => {
    close(combineReward(0.7, 1, 1, { cExt: 1, cInt: 0, beta: 3 }), 0.7);
  });

  test("combination over an episode matches hand-computed values", () => {
    // keys a b a a, r_ext 0 0 0 1, r_int 1 1 1 1, c_ext 1, c_int 0.4, β 3:
    // 0.4·1, 0.4·1, 0.4·2^−3 = 0.05, 1 + 0.4·3^−3 = 1.0148148…
    const r = combineEpisode(["a", "b", "a", "a"], [0, 0, 0, 1], [1, 1, 1, 1], { cExt: 1, cInt: 0.4, beta: 3 });
    [0.4, 0.4, 0.05, 1 + 0.4 / 27].forEach((want, i) => close(r[i] ?? NaN, want));
  });

  test("rejects episodes whose arrays differ in length", () => {
    assert.throws(() => combineEpisode(["a"], [0, 1], [1], { cExt: 1, cInt: 1, beta: 3 }), RangeError);
  });
});
