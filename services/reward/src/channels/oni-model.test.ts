import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RpcError, contracts, rewardSchema } from "@sluice/common";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { buildChannels } from "../scorer.js";
import { OniModelScorer } from "./oni-model.js";

const turn = (obs: string): contracts.Turn => makeTurn(2, { observationText: obs, actionText: "a" });

function fakeRm(version: number, byText: (text: string) => number, fail = false) {
  const calls: string[][] = [];
  return {
    calls,
    score(_name: string, texts: readonly string[]): Promise<contracts.ScoreRewardModelResponse> {
      calls.push([...texts]);
      if (fail) return Promise.reject(new RpcError("RewardModel.Score", 5, "no reward model"));
      const scores = texts.map(byText);
      return Promise.resolve({
        scores,
        probabilities: scores.map((z) => 1 / (1 + Math.exp(-z))),
        version,
        kind: contracts.RewardModelKind.REWARD_MODEL_KIND_CLASSIFICATION,
      });
    },
  };
}

const t = makeTrajectory({ turns: [turn("PASS"), turn("FAIL"), turn("PASS")] });
const z = (text: string): number => (text.includes("PASS") ? 2 : -2);

void describe("ONI intrinsic channel from the engine-hosted reward model", () => {
  test("classification: r_int = 1[p₁ > τ] with the count bonus, version recorded, texts scored once", async () => {
    const config = rewardSchema.parse({ oni: { enabled: true, rewardType: "classification", cInt: 0.4, beta: 1 } }).oni;
    const rm = fakeRm(7, z);
    const ch = await new OniModelScorer(config, rm).channel(t);
    assert.deepEqual(ch.perTurn, [1, 0, 0.5]); // the repeated PASS step: 1 · 2^(−1)
    assert.equal(ch.value, 1.5);
    assert.equal(ch.producerVersion, "rm:oni@7");
    assert.equal(ch.weight, 0.4);
    assert.equal(ch.gatePassed, true);
    assert.equal(rm.calls[0]?.length, 2);
  });

  test("τ is configurable", async () => {
    const config = rewardSchema.parse({
      oni: { enabled: true, rewardType: "classification", beta: 0, classificationThreshold: 0.95 },
    }).oni;
    assert.deepEqual((await new OniModelScorer(config, fakeRm(1, z)).channel(t)).perTurn, [0, 0, 0]); // σ(2) ≈ 0.88
  });

  test("ranking: raw r_φ, or thresholded r̂ · 1[r̂ > t] when switched on", async () => {
    const raw = rewardSchema.parse({ oni: { enabled: true, rewardType: "ranking", beta: 0 } }).oni;
    assert.deepEqual((await new OniModelScorer(raw, fakeRm(2, z)).channel(t)).perTurn, [2, -2, 2]);
    const thr = rewardSchema.parse({
      oni: { enabled: true, rewardType: "ranking", beta: 0, ranking: { threshold: true, thresholdValue: -0.5 } },
    }).oni;
    assert.deepEqual((await new OniModelScorer(thr, fakeRm(2, z)).channel(t)).perTurn, [2, 0, 2]);
  });

  test("an untrained model (version 0) gives 0; a failed call gives 0 with the gate closed", async () => {
    const config = rewardSchema.parse({ oni: { enabled: true, rewardType: "classification" } }).oni;
    const untrained = await new OniModelScorer(config, fakeRm(0, z)).channel(t);
    assert.deepEqual(untrained.perTurn, [0, 0, 0]);
    assert.equal(untrained.producerVersion, "rm:oni@0");
    const errors: unknown[] = [];
    const failed = await new OniModelScorer(config, fakeRm(3, z, true), undefined, (e) => errors.push(e)).channel(t);
    assert.equal(failed.gatePassed, false);
    assert.deepEqual(failed.perTurn, [0, 0, 0]);
    assert.equal(errors.length, 1);
  });

  test("the synchronous face replays the last values, late-bound per step", async () => {
    const cfg = rewardSchema.parse({ oni: { enabled: true, rewardType: "classification", beta: 0, cInt: 1 } });
    const scorer = new OniModelScorer(cfg.oni, fakeRm(4, z));
    const channel = buildChannels(cfg, { oniModel: scorer }).find((c) => c.name === "oni");
    assert.ok(channel);
    assert.deepEqual(channel.score(t).perTurn, [0, 0, 0]);
    await scorer.channel(t);
    const v = channel.score(t);
    assert.deepEqual(v.perTurn, [1, 0, 1]);
    assert.equal(v.producerVersion, "rm:oni@4");
  });
});
