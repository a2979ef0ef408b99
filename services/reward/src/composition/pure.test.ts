import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pureTransform } from "./pure.js";

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

void describe("PURE min-form transform", () => {
  const r = [0.5, -0.2, 0.8, 0.1];

  void it("weights are a softmax of −r/T: r′_i / r_i sums to 1", () => {
    const out = pureTransform(r, 0.1);
    assert.ok(Math.abs(sum(out.map((x, i) => x / (r[i] ?? 1))) - 1) < 1e-12);
  });

  void it("hand-computed at T = 1 for two steps", () => {
    // w = softmax(−[1, 0]) = [1/(1+e), e/(1+e)]; r′ = [1/(1+e), 0]
    const out = pureTransform([1, 0], 1);
    assert.ok(Math.abs((out[0] ?? 0) - 1 / (1 + Math.E)) < 1e-12);
    assert.equal(out[1], 0);
  });

  void it("the transformed sum approaches min r as T → 0", () => {
    const gaps = [1, 0.1, 0.01, 0.001].map((t) => Math.abs(sum(pureTransform(r, t)) - Math.min(...r)));
    for (let i = 1; i < gaps.length; i++) assert.ok((gaps[i] ?? 1) <= (gaps[i - 1] ?? 0), `gaps ${gaps.join(", ")}`);
    assert.ok((gaps[3] ?? 1) < 1e-9);
  });

  void it("equal step rewards keep their value as the sum", () => {
    assert.ok(Math.abs(sum(pureTransform([0.5, 0.5], 0.1)) - 0.5) < 1e-12);
  });

  void it("an empty step list stays empty", () => {
    assert.deepEqual(pureTransform([], 0.1), []);
  });
});
