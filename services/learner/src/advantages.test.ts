import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { drGrpoAdvantages, groupAdvantages, grpoAdvantages, groupStd, rlooAdvantages } from "./advantages.js";

const close = (a: readonly number[], b: readonly number[], tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < tol, `index ${i}: ${v} vs ${b[i]}`));
};

/** Obvious nested-loop references, written independently of the implementation. */
function refGrpo(r: number[], kind: "population" | "sample", eps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < r.length; i++) {
    let s = 0;
    for (const x of r) s += x;
    const m = s / r.length;
    let ss = 0;
    for (const x of r) ss += (x - m) ** 2;
    const d = kind === "population" ? r.length : r.length - 1;
    const std = d > 0 ? Math.sqrt(ss / d) : 0;
    out.push((r[i]! - m) / (std + eps));
  }
  return out;
}
function refRloo(r: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < r.length; i++) {
    let s = 0;
    let n = 0;
    for (let j = 0; j < r.length; j++) {
      if (j === i) continue;
      s += r[j]!;
      n++;
    }
    out.push(n === 0 ? 0 : r[i]! - s / n);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

void describe("advantages", () => {
  void it("GRPO with population std matches hand-computed values", () => {
    // mean 0.5, population std 0.5
    close(grpoAdvantages([1, 0, 0, 1], "population", 0), [1, -1, -1, 1]);
    // mean 2, population std sqrt(2/3) = 0.8164966
    close(grpoAdvantages([1, 2, 3], "population", 0), [-1.2247449, 0, 1.2247449]);
  });

  void it("GRPO with sample std divides by G − 1", () => {
    // sample std of [1,0,0,1] = sqrt(1/3) = 0.5773503 → ±0.5/0.5773503 = ±0.8660254
    close(grpoAdvantages([1, 0, 0, 1], "sample", 0), [0.8660254, -0.8660254, -0.8660254, 0.8660254]);
    close(grpoAdvantages([1, 2, 3], "sample", 0), [-1, 0, 1]);
  });

  void it("GRPO defaults to population std and adds epsilon", () => {
    close(groupAdvantages([1, 0], { estimator: "grpo" }), [0.5 / (0.5 + 1e-6), -0.5 / (0.5 + 1e-6)]);
    assert.equal(groupStd([4], "sample"), 0);
  });

  void it("GRPO with std none is the mean-centred reward", () => {
    close(grpoAdvantages([1, 2, 3], "none"), [-1, 0, 1]);
  });

  void it("Dr. GRPO subtracts the group mean only", () => {
    close(drGrpoAdvantages([1, 0, 0, 1]), [0.5, -0.5, -0.5, 0.5]);
    close(drGrpoAdvantages([2, 4, 9]), [-3, -1, 4]);
  });

  void it("RLOO subtracts the leave-one-out mean", () => {
    close(rlooAdvantages([1, 0, 0, 1]), [2 / 3, -2 / 3, -2 / 3, 2 / 3]);
    close(rlooAdvantages([1, 2, 3]), [-1.5, 0, 1.5]);
    close(rlooAdvantages([5]), [0]);
  });

  void it("all-equal rewards give zero advantages for every estimator", () => {
    for (const estimator of ["grpo", "dr_grpo", "rloo"] as const) {
      close(groupAdvantages([0.7, 0.7, 0.7], { estimator }), [0, 0, 0]);
    }
  });

  void it("agrees with an obvious loop on random groups", () => {
    const rand = rng(42);
    for (let trial = 0; trial < 200; trial++) {
      const g = 1 + Math.floor(rand() * 9);
      const r = Array.from({ length: g }, () => Math.round(rand() * 4 - 2) / 2 + rand());
      close(grpoAdvantages(r, "population"), refGrpo(r, "population", 1e-6), 1e-9);
      close(grpoAdvantages(r, "sample"), refGrpo(r, "sample", 1e-6), 1e-9);
      close(rlooAdvantages(r), refRloo(r), 1e-9);
      const m = r.reduce((a, b) => a + b, 0) / g;
      close(
        drGrpoAdvantages(r),
        r.map((x) => x - m),
        1e-12,
      );
    }
  });
});
