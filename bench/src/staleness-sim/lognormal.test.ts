import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { episodeDurationS, lognormalSampler, type LognormalParams } from "./lognormal.js";

const P: LognormalParams = { medianS: 45, sigma: 1, capS: 900 };

void describe("lognormal sampler", () => {
  void it("gives the same sequence for the same seed and another for another seed", () => {
    const a = lognormalSampler(P, 7);
    const b = lognormalSampler(P, 7);
    const c = lognormalSampler(P, 8);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(
      Array.from({ length: 5 }, () => b()),
      xs,
    );
    assert.notDeepEqual(
      Array.from({ length: 5 }, () => c()),
      xs,
    );
  });

  void it("has the configured median and a long right tail, and never exceeds the cap", () => {
    const draw = lognormalSampler(P, 1);
    const xs = Array.from({ length: 20_000 }, () => draw()).sort((x, y) => x - y);
    const q = (p: number): number => xs[Math.floor(p * (xs.length - 1))]!;
    assert.ok(Math.abs(q(0.5) - 45) < 2, `median ${q(0.5)}`);
    // p90 = 45·e^1.2816 ≈ 162 s; the mean sits well above the median.
    assert.ok(Math.abs(q(0.9) - 162) < 12, `p90 ${q(0.9)}`);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(mean > 65 && mean < 85, `mean ${mean}`);
    assert.ok(xs.at(-1)! <= 900);
    assert.ok(xs[0]! > 0);
  });

  void it("is a constant at σ = 0", () => {
    const draw = lognormalSampler({ medianS: 30, sigma: 0, capS: 100 }, 3);
    assert.deepEqual([draw(), draw(), draw()], [30, 30, 30]);
  });

  void it("draws an episode's duration from (seed, group, member) alone", () => {
    assert.equal(episodeDurationS(P, 1, 12, 3), episodeDurationS(P, 1, 12, 3));
    assert.notEqual(episodeDurationS(P, 1, 12, 3), episodeDurationS(P, 1, 12, 4));
    assert.notEqual(episodeDurationS(P, 1, 12, 3), episodeDurationS(P, 2, 12, 3));
  });
});
