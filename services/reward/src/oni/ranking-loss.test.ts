import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bradleyTerryBatchLoss, bradleyTerrySoftLoss, logSoftmax2, rankingSoftLabel } from "./ranking-loss.js";

const close = (a: number, b: number, eps = 1e-6): void => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

void describe("ONI ranking Bradley–Terry soft-label loss", () => {
  test("soft labels: FIRST 0, SECOND 1, TIE 0.5", () => {
    assert.equal(rankingSoftLabel("FIRST"), 0);
    assert.equal(rankingSoftLabel("SECOND"), 1);
    assert.equal(rankingSoftLabel("TIE"), 0.5);
  });

  test("equal scores cost log 2 for every label", () => {
    for (const y of [0, 0.5, 1]) close(bradleyTerrySoftLoss(0.3, 0.3, y), Math.LN2);
  });

  test("r₁ = 1, r₂ = 0 matches hand-computed values", () => {
    close(bradleyTerrySoftLoss(1, 0, 0), 0.3132617); // log(1 + e^−1)
    close(bradleyTerrySoftLoss(1, 0, 1), 1.3132617); // log(1 + e)
    close(bradleyTerrySoftLoss(1, 0, 0.5), 0.8132617);
  });

  test("stays finite for large score gaps", () => {
    const [l0, l1] = logSoftmax2(1000, 0);
    close(l0, 0);
    close(l1, -1000);
    close(bradleyTerrySoftLoss(0, 1000, 1), 0);
  });

  test("batch loss is the mean", () => {
    close(bradleyTerryBatchLoss([1, 0.3], [0, 0.3], [0, 1]), (0.3132617 + Math.LN2) / 2);
  });

  test("rejects soft labels outside [0, 1]", () => {
    assert.throws(() => bradleyTerrySoftLoss(0, 0, 1.5), RangeError);
  });
});
