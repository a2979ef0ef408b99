import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, rewardSchema } from "@sluice/common";
import type { ChannelScorer } from "../channels/channel.js";
import { buildChannels, scoreTrajectory, type RewardConfig } from "../scorer.js";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { toolCall } from "../testing/tool-calls.js";
import { RewardConfigError } from "../errors.js";

const { OutcomeLevel: L, FailureKind: F } = contracts;

/** Outcome by level (defaults −1, −0.5, −0.25, 0, 1) plus step critics worth 0.5 per valid bash turn. */
function config(kind: "gra" | "dra", extra: Record<string, unknown> = {}): RewardConfig {
  return rewardSchema.parse({
    outcome: { source: "level" },
    stepCritics: {
      enabled: true,
      validToolCall: { reward: 0.25 },
      commandSucceeded: { reward: 0.25 },
      noRepeat: { penalty: 0 },
    },
    composition: { kind, ...extra },
  });
}

/** `turns` distinct valid bash turns (0.5 each under config()) ending at `level`. */
function episode(level: contracts.OutcomeLevel, turns = 2, submitted = level !== L.OUTCOME_LEVEL_NO_SUBMIT) {
  return makeTrajectory({
    turns: Array.from({ length: turns }, (_, i) =>
      makeTurn(2, { actionText: `step ${i}`, toolCalls: [toolCall("bash", { command: `echo ${i}` })] }),
    ),
    outcome: contracts.Outcome.fromPartial({ level, submitted, modified: submitted }),
  });
}

const levels: [string, contracts.OutcomeLevel, number, number][] = [
  // name, level, G-RA total, D-RA total (r_high + Σ r_low with Σ r_low = 1)
  ["NO_SUBMIT", L.OUTCOME_LEVEL_NO_SUBMIT, -1, 0],
  ["EMPTY_PATCH", L.OUTCOME_LEVEL_EMPTY_PATCH, -0.5, 0.5],
  ["PATCH_APPLY_FAILED", L.OUTCOME_LEVEL_PATCH_APPLY_FAILED, -0.25, 0.75],
  ["TESTS_FAIL", L.OUTCOME_LEVEL_TESTS_FAIL, 1, 1],
  ["RESOLVED", L.OUTCOME_LEVEL_RESOLVED, 2, 2],
];

void describe("G-RA and D-RA composition", () => {
  for (const [name, level, gra, dra] of levels) {
    void it(`${name}: G-RA total ${gra}, D-RA total ${dra}`, () => {
      const g = scoreTrajectory(episode(level), config("gra"));
      assert.equal(g.reward, gra);
      const open = gra >= 1;
      // the outcome r_high is episode-level: it is credited to the last turn (Σ_t r̃_t = R)
      const rHigh = g.channels[0]?.value ?? Number.NaN;
      assert.deepEqual(g.perTurnReward, open ? [0.5, 0.5 + rHigh] : [0, rHigh]);
      assert.deepEqual(
        g.channels.map((c) => [c.name, c.gatePassed]),
        [
          ["outcome", true],
          ["steps", open],
        ],
      );
      assert.equal(g.channels[1]?.value, 1, "the raw step value is kept even when gated off");
      assert.equal(g.composition, "gra(outcome≥0;steps)");
      const d = scoreTrajectory(episode(level), config("dra"));
      assert.equal(d.reward, dra);
      assert.deepEqual(d.perTurnReward, [0.5, 0.5 + rHigh]);
      assert.equal(d.composition, "dra");
    });
  }

  void it("'only when resolved' is one change: the outcome gate at RESOLVED", () => {
    const strict = config("gra", { gates: [{ channel: "outcome", threshold: "RESOLVED" }] });
    assert.equal(scoreTrajectory(episode(L.OUTCOME_LEVEL_TESTS_FAIL), strict).reward, 0);
    assert.equal(scoreTrajectory(episode(L.OUTCOME_LEVEL_RESOLVED), strict).reward, 2);
    assert.equal(scoreTrajectory(episode(L.OUTCOME_LEVEL_RESOLVED), strict).composition, "gra(outcome≥1;steps)");
  });

  void it("the gate opens exactly at δ (≥) and stays shut just below", () => {
    const c = rewardSchema.parse({
      stepCritics: { enabled: true, validToolCall: { reward: 0.25 }, commandSucceeded: { reward: 0.25 } },
      composition: { kind: "gra", gates: [{ channel: "outcome", threshold: 0.5 }] },
    });
    const at = (score: number) =>
      scoreTrajectory(
        makeTrajectory({
          turns: episode(L.OUTCOME_LEVEL_TESTS_FAIL).turns,
          outcome: contracts.Outcome.fromPartial({ level: L.OUTCOME_LEVEL_TESTS_FAIL, score, submitted: true }),
        }),
        c,
      );
    assert.equal(at(0.5).reward, 1.5);
    assert.equal(at(0.5).channels[1]?.gatePassed, true);
    assert.equal(at(0.4999).reward, 0.4999);
    assert.equal(at(0.4999).channels[1]?.gatePassed, false);
  });

  void it("many valid steps without a submit do not outrank a submitted attempt under G-RA, but do under D-RA", () => {
    const farmer = episode(L.OUTCOME_LEVEL_NO_SUBMIT, 40);
    const honest = episode(L.OUTCOME_LEVEL_TESTS_FAIL, 1);
    const gra = config("gra");
    const dra = config("dra");
    assert.equal(scoreTrajectory(farmer, gra).reward, -1);
    assert.equal(scoreTrajectory(honest, gra).reward, 0.5);
    assert.equal(scoreTrajectory(farmer, dra).reward, 19);
    assert.equal(scoreTrajectory(honest, dra).reward, 0.5);
    assert.ok(scoreTrajectory(farmer, gra).reward < scoreTrajectory(honest, gra).reward);
    assert.ok(scoreTrajectory(farmer, dra).reward > scoreTrajectory(honest, dra).reward);
  });

  void it("three channels: a lower channel counts only when every higher gate is open", () => {
    const fixed = (name: string, value: number, perTurn: number[]): ChannelScorer => ({
      name,
      score: () => ({ name, value, perTurn, producerVersion: `${name}/1`, gatePassed: true, weight: 1 }),
    });
    const c = rewardSchema.parse({
      composition: {
        kind: "gra",
        gates: [
          { channel: "a", priority: 2, threshold: 1 },
          { channel: "b", priority: 1, threshold: 0 },
        ],
      },
    });
    const run = (a: number, b: number) =>
      scoreTrajectory(makeTrajectory(), c, [fixed("a", a, []), fixed("b", b, [b, 0]), fixed("c", 4, [1, 3])]);
    // both gates open: R = a + b + c
    assert.equal(run(1, 0.5).reward, 5.5);
    // a is episode-level: its value lands on the last turn
    assert.deepEqual(run(1, 0.5).perTurnReward, [1.5, 4]);
    // b below δ_b: c is masked (m_c = 1[a≥1]·1[b≥0] = 0), b itself still counts
    assert.equal(run(1, -0.5).reward, 0.5);
    assert.deepEqual(run(1, -0.5).perTurnReward, [-0.5, 1]);
    assert.deepEqual(
      run(1, -0.5).channels.map((x) => x.gatePassed),
      [true, true, false],
    );
    // a below δ_a: b and c are masked even though b clears its own gate
    assert.equal(run(0.5, 2).reward, 0.5);
    assert.deepEqual(run(0.5, 2).perTurnReward, [0, 0.5]);
    assert.deepEqual(
      run(0.5, 2).channels.map((x) => x.gatePassed),
      [true, false, false],
    );
    assert.equal(run(1, 0).composition, "gra(a≥1;b≥0;c)");
  });

  void it("property: with non-negative step rewards, no trajectory below δ outscores one at or above δ", () => {
    let seed = 12345;
    // Park–Miller LCG: deterministic, no library.
    const rand = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const allLevels = [
      L.OUTCOME_LEVEL_NO_SUBMIT,
      L.OUTCOME_LEVEL_EMPTY_PATCH,
      L.OUTCOME_LEVEL_PATCH_APPLY_FAILED,
      L.OUTCOME_LEVEL_TESTS_FAIL,
      L.OUTCOME_LEVEL_RESOLVED,
    ];
    const c = rewardSchema.parse({
      outcome: { source: "level" },
      stepCritics: { enabled: true, noRepeat: { reward: 0.05, penalty: 0 } },
      composition: { kind: "gra" },
    });
    const delta = c.outcome.levels.TESTS_FAIL;
    let below = Number.NEGATIVE_INFINITY;
    let above = Number.POSITIVE_INFINITY;
    for (let n = 0; n < 500; n++) {
      const level = allLevels[Math.floor(rand() * allLevels.length)] ?? L.OUTCOME_LEVEL_NO_SUBMIT;
      const turns = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => {
        const name = rand() < 0.5 ? "bash" : "str_replace_editor";
        const call = toolCall(
          name,
          { command: rand() < 0.5 ? "str_replace" : `cmd ${Math.floor(rand() * 3)}` },
          { valid: rand() < 0.8, exitCode: rand() < 0.7 ? 0 : 1 },
        );
        return makeTurn(2, { actionText: String(Math.floor(rand() * 3)), toolCalls: rand() < 0.9 ? [call] : [] });
      });
      const t = makeTrajectory({ turns, outcome: contracts.Outcome.fromPartial({ level }) });
      const s = scoreTrajectory(t, c);
      const rHigh = s.channels[0]?.value ?? 0;
      if (rHigh >= delta) above = Math.min(above, s.reward);
      else below = Math.max(below, s.reward);
    }
    assert.ok(Number.isFinite(below) && Number.isFinite(above), "both sides sampled");
    assert.ok(below < above, `best below δ ${below} vs worst at or above δ ${above}`);
  });

  void it("a failed veto zeroes the total and gates every channel off", () => {
    const c = config("gra", {});
    const vetoed = rewardSchema.parse({ ...c, veto: { invalidToolCalls: { enabled: true } } });
    const bad = episode(L.OUTCOME_LEVEL_RESOLVED);
    bad.turns[0] = makeTurn(2, { toolCalls: [toolCall("bash", {}, { valid: false })] });
    const s = scoreTrajectory(bad, vetoed);
    assert.equal(s.reward, 0);
    assert.deepEqual(s.perTurnReward, [0, 0]);
    assert.deepEqual(
      s.channels.map((x) => [x.name, x.value, x.gatePassed]),
      [
        ["outcome", 1, false],
        ["steps", 0.5, false],
        ["invalid_tool_calls", 0, true],
      ],
    );
    assert.equal(s.composition, "gra(outcome≥0;steps)+veto(invalid_tool_calls)");
    assert.equal(scoreTrajectory(episode(L.OUTCOME_LEVEL_RESOLVED), vetoed).reward, 2);
  });

  void it("PURE on the step channel turns its sum into about its minimum", () => {
    const c = rewardSchema.parse({
      ...config("dra"),
      stepCritics: { ...config("dra").stepCritics, commandSucceeded: { reward: 0.25, penalty: 0 } },
      pure: { channels: ["steps"], temperature: 0.001 },
    });
    const t = episode(L.OUTCOME_LEVEL_TESTS_FAIL, 3);
    t.turns[1] = makeTurn(2, { toolCalls: [toolCall("bash", { command: "false" }, { exitCode: 1 })] });
    const s = scoreTrajectory(t, c);
    // raw steps [0.5, 0.25, 0.5] → PURE sum ≈ min = 0.25
    assert.ok(Math.abs((s.channels[1]?.value ?? 0) - 0.25) < 1e-9);
    assert.match(s.composition, /^dra\+pure\(steps;T=0\.001\)$/);
  });

  void it("infrastructure failures pass through with reward 0 and every gate off", () => {
    const s = scoreTrajectory(
      makeTrajectory({ failure: F.FAILURE_KIND_SANDBOX_ERROR, outcome: undefined }),
      config("gra"),
    );
    assert.equal(s.reward, 0);
    assert.deepEqual(s.perTurnReward, []);
    assert.ok(s.channels.every((x) => !x.gatePassed && x.value === 0));
    assert.equal(s.composition, "gra(outcome≥0;steps)");
  });

  void it("a single outcome channel gives the same reward under sum, dra and gra", () => {
    for (const level of levels.map((l) => l[1])) {
      const t = makeTrajectory({ outcome: contracts.Outcome.fromPartial({ level, score: 0.3 }) });
      const rewards = (["sum", "dra", "gra"] as const).map(
        (kind) => scoreTrajectory(t, rewardSchema.parse({ composition: { kind } })).reward,
      );
      assert.deepEqual(rewards, [0.3, 0.3, 0.3]);
    }
  });

  void it("rejects a gate or PURE on a channel that is not enabled", () => {
    assert.throws(() => buildChannels(config("gra", { gates: [{ channel: "prm" }] })), RewardConfigError);
    assert.throws(() => buildChannels(rewardSchema.parse({ pure: { channels: ["steps"] } })), RewardConfigError);
    assert.equal(buildChannels(rewardSchema.parse({})).length, 1);
  });
});
