import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rewardSchema } from "@sluice/common";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { overlongChannel, overlongPenalty } from "./overlong.js";

void describe("DAPO overlong shaping", () => {
  // L_max = 10, L_c = 4: free up to 6, linear to −1 at 10, −1 beyond.
  const cases: [number, number][] = [
    [0, 0],
    [6, 0],
    [7, -0.25],
    [8, -0.5],
    [10, -1],
    [11, -1],
  ];
  for (const [length, want] of cases) {
    void it(`|y| = ${length} with L_max 10, L_c 4 gives ${want}`, () => {
      assert.equal(overlongPenalty(length, 10, 4), want);
    });
  }

  const config = (scope: "episode" | "turn") =>
    rewardSchema.parse({ overlong: { enabled: true, maxLength: 10, cacheLength: 4, scope } }).overlong;
  const t = makeTrajectory({ turns: [makeTurn(4), makeTurn(3)] });

  void it("episode scope punishes the total action length and has no per-turn values", () => {
    const c = overlongChannel(config("episode")).score(t);
    assert.equal(c.value, -0.25);
    assert.deepEqual(c.perTurn, []);
  });

  void it("turn scope punishes each turn and sums", () => {
    const short = overlongChannel(config("turn")).score(t);
    assert.deepEqual(short.perTurn, [0, 0]);
    const long = overlongChannel(config("turn")).score(makeTrajectory({ turns: [makeTurn(8), makeTurn(12)] }));
    assert.deepEqual(long.perTurn, [-0.5, -1]);
    assert.equal(long.value, -1.5);
  });

  void it("rejects L_c ≥ L_max in the spec", () => {
    assert.throws(() => rewardSchema.parse({ overlong: { maxLength: 4, cacheLength: 4 } }), /cacheLength/);
  });
});
