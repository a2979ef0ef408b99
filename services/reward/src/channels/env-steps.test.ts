import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, rewardSchema } from "@sluice/common";
import { RewardConfigError } from "../errors.js";
import { buildChannels, scoreTrajectory, type RewardConfig } from "../scorer.js";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { ENV_STEPS_CHANNEL, envStepsChannel } from "./env-steps.js";

const { OutcomeLevel: L } = contracts;

/** Outcome by level (defaults NO_SUBMIT −1, EMPTY_PATCH −0.5, TESTS_FAIL 0, RESOLVED 1) plus env_steps. */
function config(kind: "dra" | "gra", extra: Record<string, unknown> = {}): RewardConfig {
  return rewardSchema.parse({
    outcome: { source: "level" },
    envSteps: { enabled: true, ...extra },
    composition: { kind },
  });
}

/** A "farm" episode: the environment's per-turn scores (0.5 per valid step, 0 on the submit turn). */
function farmEpisode(level: contracts.OutcomeLevel, turnScores: number[]): contracts.Trajectory {
  const submitted = level !== L.OUTCOME_LEVEL_NO_SUBMIT;
  return makeTrajectory({
    turns: turnScores.map(() => makeTurn(1)),
    outcome: contracts.Outcome.fromPartial({ level, submitted, modified: turnScores.some((s) => s > 0), turnScores }),
  });
}

const farmed = farmEpisode(L.OUTCOME_LEVEL_NO_SUBMIT, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
const wrongSubmit = farmEpisode(L.OUTCOME_LEVEL_TESTS_FAIL, [0.5, 0]);

void describe("env_steps channel", () => {
  void it("carries the environment's per-turn scores and their sum", () => {
    const v = envStepsChannel(config("dra").envSteps).score(farmEpisode(L.OUTCOME_LEVEL_RESOLVED, [0.5, 0, 0.5, 0]));
    assert.equal(v.name, ENV_STEPS_CHANNEL);
    assert.deepEqual(v.perTurn, [0.5, 0, 0.5, 0]);
    assert.equal(v.value, 1);
    assert.equal(v.weight, 1);
    assert.equal(v.producerVersion, "env-steps/v1");
  });

  void it("scores 0 with no per-turn values when the environment gives none or they do not align", () => {
    const ch = envStepsChannel(config("dra").envSteps);
    const none = ch.score(makeTrajectory());
    assert.deepEqual([none.value, none.perTurn], [0, []]);
    const misaligned = ch.score(
      makeTrajectory({ outcome: contracts.Outcome.fromPartial({ level: L.OUTCOME_LEVEL_RESOLVED, turnScores: [1] }) }),
    );
    assert.deepEqual([misaligned.value, misaligned.perTurn], [0, []]);
    const notFinite = ch.score(farmEpisode(L.OUTCOME_LEVEL_RESOLVED, [0.5, Number.NaN]));
    assert.deepEqual([notFinite.value, notFinite.perTurn], [0, []]);
  });

  void it("has weight from the config and is off by default", () => {
    assert.equal(rewardSchema.parse({}).envSteps.enabled, false);
    assert.equal(rewardSchema.parse({}).envSteps.weight, 1);
    assert.equal(envStepsChannel(config("dra", { weight: 0.5 }).envSteps).score(farmed).weight, 0.5);
    assert.deepEqual(
      buildChannels(rewardSchema.parse({ outcome: { source: "level" } })).map((c) => c.name),
      ["outcome"],
    );
    assert.deepEqual(
      buildChannels(config("gra")).map((c) => c.name),
      ["outcome", ENV_STEPS_CHANNEL],
    );
  });

  void it("refuses outcome.source score, which already carries the per-turn scores", () => {
    assert.throws(
      () => buildChannels(rewardSchema.parse({ envSteps: { enabled: true } })),
      (err: unknown) => err instanceof RewardConfigError && /counted? .*twice|twice/.test(err.message),
    );
  });

  void it("rejects unknown fields in reward.envSteps", () => {
    assert.throws(() => rewardSchema.parse({ envSteps: { enable: true } }));
  });
});

// r_step = 0.5; levels NO_SUBMIT −1, EMPTY_PATCH −0.5, TESTS_FAIL 0 (= δ), RESOLVED 1.
// D-RA: R = r_high + Σ_t r_low,t.  G-RA: R = r_high + 1[r_high ≥ δ] · Σ_t r_low,t.
const totals: Array<[string, contracts.Trajectory, number, number]> = [
  // name, episode, D-RA total, G-RA total
  ["farms all 6 turns, no submit", farmed, -1 + 3, -1],
  ["one step, wrong digit", wrongSubmit, 0 + 0.5, 0 + 0.5],
  ["two steps, right digit", farmEpisode(L.OUTCOME_LEVEL_RESOLVED, [0.5, 0.5, 0]), 1 + 1, 1 + 1],
  [
    "five steps, right digit on the last turn",
    farmEpisode(L.OUTCOME_LEVEL_RESOLVED, [0.5, 0.5, 0.5, 0.5, 0.5, 0]),
    3.5,
    3.5,
  ],
  ["submits at once (empty patch)", farmEpisode(L.OUTCOME_LEVEL_EMPTY_PATCH, [0]), -0.5, -0.5],
  ["two steps and an invalid one, no submit", farmEpisode(L.OUTCOME_LEVEL_NO_SUBMIT, [0.5, 0, 0.5]), -1 + 1, -1],
];

void describe("D-RA and G-RA totals on farm trajectories", () => {
  for (const [name, episode, dra, gra] of totals) {
    void it(`${name}: D-RA ${dra}, G-RA ${gra}`, () => {
      const d = scoreTrajectory(episode, config("dra"));
      assert.equal(d.reward, dra);
      assert.equal(d.composition, "dra");
      // The outcome channel (levels) is episode-level: it lands on the last turn, so the
      // per-turn rewards are the steps plus the outcome at the end, and sum to the total.
      const steps = episode.outcome?.turnScores ?? [];
      const outcome = d.channels.find((c) => c.name === "outcome")?.value ?? 0;
      const atEnd = (xs: number[]) => xs.map((x, i) => (i === xs.length - 1 ? x + outcome : x));
      assert.deepEqual(d.perTurnReward, atEnd(steps));
      const g = scoreTrajectory(episode, config("gra"));
      assert.equal(g.reward, gra);
      assert.equal(g.composition, "gra(outcome≥0;env_steps)");
      const open = (episode.outcome?.level ?? 0) >= L.OUTCOME_LEVEL_TESTS_FAIL;
      assert.deepEqual(g.perTurnReward, atEnd(steps.map((x) => (open ? x : 0))));
      assert.ok(Math.abs(g.perTurnReward.reduce((a, b) => a + b, 0) - g.reward) < 1e-12);
      assert.deepEqual(
        g.channels.map((c) => [c.name, c.gatePassed]),
        [
          ["outcome", true],
          [ENV_STEPS_CHANNEL, open],
        ],
      );
    });
  }

  void it("farming outranks a submitted attempt under D-RA but not under G-RA", () => {
    const score = (t: contracts.Trajectory, kind: "dra" | "gra") => scoreTrajectory(t, config(kind)).reward;
    assert.ok(score(farmed, "dra") > score(wrongSubmit, "dra"), "D-RA: 2 > 0.5");
    assert.ok(score(farmed, "gra") < score(wrongSubmit, "gra"), "G-RA: −1 < 0.5");
  });

  void it("gated at RESOLVED, a wrong submit's steps stop counting too", () => {
    const strict = rewardSchema.parse({
      outcome: { source: "level" },
      envSteps: { enabled: true },
      composition: { kind: "gra", gates: [{ channel: "outcome", threshold: "RESOLVED" }] },
    });
    assert.equal(scoreTrajectory(wrongSubmit, strict).reward, 0);
    assert.equal(scoreTrajectory(farmEpisode(L.OUTCOME_LEVEL_RESOLVED, [0.5, 0.5, 0]), strict).reward, 2);
  });

  void it("the channel weight scales the steps: R = r_high + w · Σ_t r_low,t", () => {
    assert.equal(scoreTrajectory(farmed, config("dra", { weight: 0.5 })).reward, -1 + 1.5);
  });
});
