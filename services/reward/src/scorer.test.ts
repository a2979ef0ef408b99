import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, rewardSchema } from "@sluice/common";
import { OUTCOME_PRODUCER_VERSION } from "./channels/outcome.js";
import { TrajectoryRejectedError, type RejectReason } from "./errors.js";
import { scoreBatch, scoreTrajectory, type RewardConfig } from "./scorer.js";
import { makeTrajectory, makeTurn } from "./testing/fixtures.js";
import { scoreBatchResponse } from "./reward-service.js";

const { OutcomeLevel: L, FailureKind: F } = contracts;
const byScore: RewardConfig = rewardSchema.parse({});
const byLevel: RewardConfig = rewardSchema.parse({ outcome: { source: "level", levels: { TESTS_FAIL: 0.1 } } });

void describe("scoreTrajectory", () => {
  const cases: { name: string; config: RewardConfig; level: contracts.OutcomeLevel; score: number; reward: number }[] =
    [
      {
        name: "score source uses the environment score",
        config: byScore,
        level: L.OUTCOME_LEVEL_TESTS_FAIL,
        score: 0.75,
        reward: 0.75,
      },
      {
        name: "score source ignores the level value",
        config: byScore,
        level: L.OUTCOME_LEVEL_RESOLVED,
        score: 0,
        reward: 0,
      },
      { name: "level NO_SUBMIT", config: byLevel, level: L.OUTCOME_LEVEL_NO_SUBMIT, score: 9, reward: -1 },
      { name: "level EMPTY_PATCH", config: byLevel, level: L.OUTCOME_LEVEL_EMPTY_PATCH, score: 9, reward: -0.5 },
      {
        name: "level PATCH_APPLY_FAILED",
        config: byLevel,
        level: L.OUTCOME_LEVEL_PATCH_APPLY_FAILED,
        score: 9,
        reward: -0.25,
      },
      {
        name: "level TESTS_FAIL (configured)",
        config: byLevel,
        level: L.OUTCOME_LEVEL_TESTS_FAIL,
        score: 9,
        reward: 0.1,
      },
      { name: "level RESOLVED", config: byLevel, level: L.OUTCOME_LEVEL_RESOLVED, score: 9, reward: 1 },
    ];
  for (const c of cases) {
    void it(`rewards: ${c.name}`, () => {
      const t = makeTrajectory({ outcome: contracts.Outcome.fromPartial({ level: c.level, score: c.score }) });
      const s = scoreTrajectory(t, c.config, undefined, () => 1234);
      assert.equal(s.reward, c.reward);
      assert.equal(s.composition, "sum");
      assert.equal(s.scoredAtMs, 1234);
      assert.deepEqual(s.perTurnReward, []);
      assert.equal(s.trajectory, t);
      assert.deepEqual(s.channels, [
        {
          name: "outcome",
          value: c.reward,
          perTurn: [],
          producerVersion: OUTCOME_PRODUCER_VERSION,
          gatePassed: true,
          weight: 1,
        },
      ]);
    });
  }

  const rejects: { name: string; t: contracts.Trajectory; reason: RejectReason; pattern: RegExp }[] = [
    {
      name: "a missing outcome",
      t: makeTrajectory({ outcome: undefined }),
      reason: "missing_outcome",
      pattern: /no outcome/,
    },
    {
      name: "an UNSPECIFIED level",
      t: makeTrajectory({ outcome: contracts.Outcome.fromPartial({ level: L.OUTCOME_LEVEL_UNSPECIFIED, score: 1 }) }),
      reason: "unspecified_level",
      pattern: /OUTCOME_LEVEL_UNSPECIFIED/,
    },
    {
      name: "inconsistent lengths",
      t: makeTrajectory({ turns: [makeTurn(2), makeTurn(3, { actionLogprobs: new Uint8Array(4) })] }),
      reason: "inconsistent",
      pattern: /turn 1: action_logprobs has 1 entries for 3 action tokens/,
    },
    {
      name: "a missing group id",
      t: makeTrajectory({ groupId: "" }),
      reason: "inconsistent",
      pattern: /group_id is empty/,
    },
  ];
  for (const c of rejects) {
    void it(`rejects a trajectory with ${c.name}, giving the reason`, () => {
      assert.throws(
        () => scoreTrajectory(c.t, byScore),
        (e: unknown) => {
          assert.ok(e instanceof TrajectoryRejectedError);
          assert.equal(e.reason, c.reason);
          assert.equal(e.retryable, false);
          assert.match(e.message, c.pattern);
          return true;
        },
      );
    });
  }

  for (const failure of [
    F.FAILURE_KIND_SANDBOX_ERROR,
    F.FAILURE_KIND_HARNESS_TIMEOUT,
    F.FAILURE_KIND_TOKENIZATION_MISMATCH,
  ]) {
    void it(`passes ${contracts.failureKindToJSON(failure)} through with reward 0 and gated channels, even without an outcome`, () => {
      const t = makeTrajectory({ failure, outcome: undefined });
      const s = scoreTrajectory(t, byLevel);
      assert.equal(s.reward, 0);
      assert.deepEqual(s.perTurnReward, []);
      assert.equal(s.trajectory?.failure, failure);
      assert.ok(s.channels.every((c) => !c.gatePassed && c.value === 0));
    });
  }

  void it("scores UNSPECIFIED failure as a normal episode", () => {
    const t = makeTrajectory({ failure: F.FAILURE_KIND_UNSPECIFIED });
    assert.equal(scoreTrajectory(t, byScore).reward, 1);
  });

  void it("sums weighted gated channels and per-turn values", () => {
    const t = makeTrajectory();
    const s = scoreTrajectory(t, byScore, [
      {
        name: "a",
        score: () => ({ name: "a", value: 2, perTurn: [1, 0], producerVersion: "a/1", gatePassed: true, weight: 0.5 }),
      },
      {
        name: "b",
        score: () => ({ name: "b", value: 3, perTurn: [0, 2], producerVersion: "b/1", gatePassed: true, weight: 1 }),
      },
      {
        name: "c",
        score: () => ({ name: "c", value: 7, perTurn: [5, 5], producerVersion: "c/1", gatePassed: false, weight: 1 }),
      },
    ]);
    assert.equal(s.reward, 4);
    assert.deepEqual(s.perTurnReward, [0.5, 2]);
  });
});

void describe("scoreBatch", () => {
  void it("scores the good trajectories and lists the rejected ones with reasons", () => {
    const good = makeTrajectory({ trajectoryId: "good" });
    const bad = makeTrajectory({ trajectoryId: "bad", outcome: undefined });
    const r = scoreBatch([good, bad], byScore);
    assert.deepEqual(
      r.scored.map((s) => s.trajectory?.trajectoryId),
      ["good"],
    );
    assert.deepEqual(
      r.rejected.map((e) => [e.trajectoryId, e.reason]),
      [["bad", "missing_outcome"]],
    );
    const resp = scoreBatchResponse({ trajectories: [good, bad] }, byScore);
    assert.equal(resp.scored.length, 1);
    assert.equal(resp.rejected[0]?.trajectoryId, "bad");
    assert.match(resp.rejected[0]?.reason ?? "", /missing_outcome/);
  });
});

describe("per-turn rewards from the environment", () => {
  void it("carries the environment's turn scores into per_turn_reward when there is one per turn", () => {
    const t = makeTrajectory({
      outcome: contracts.Outcome.fromPartial({ level: L.OUTCOME_LEVEL_TESTS_FAIL, score: 0.5, turnScores: [0.5, 0] }),
    });
    const s = scoreTrajectory(t, byScore);
    assert.deepEqual(s.perTurnReward, [0.5, 0]);
    assert.equal(s.reward, 0.5);
  });

  void it("leaves per_turn_reward empty when the turn scores do not line up with the turns", () => {
    const t = makeTrajectory({
      outcome: contracts.Outcome.fromPartial({ level: L.OUTCOME_LEVEL_TESTS_FAIL, score: 0.5, turnScores: [0.5] }),
    });
    assert.deepEqual(scoreTrajectory(t, byScore).perTurnReward, []);
  });
});
