import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, packInt32, unpackInt32 } from "@sluice/common";
import { runGuidedGroup, type AttemptRequest, type GuidancePolicy } from "./guided-group.js";
import type { GuidanceProvider } from "./types.js";

const { FailureKind } = contracts;
const codes = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0) ?? 0);
const PROMPT = "system\ntask";

/** A fake episode: turn 0 observes the prompt (+ guidance, as the gateway renders it). */
function trajectory(req: AttemptRequest, score: number, failure = FailureKind.FAILURE_KIND_NONE): contracts.Trajectory {
  const obs = [PROMPT, ...req.guidanceMessages.map((m) => m.content ?? "")].join("\n");
  return contracts.Trajectory.fromPartial({
    trajectoryId: `g-${req.indexInGroup}`,
    groupId: "g",
    groupSize: 4,
    indexInGroup: req.indexInGroup,
    turns: [{ observationTokenIds: packInt32(codes(obs)), actionTokenIds: packInt32(codes("answer")) }],
    outcome: { score, detail: score >= 1 ? "resolved" : "tests failed" },
    failure,
  });
}

const feedback: GuidanceProvider = {
  kind: "environment_feedback",
  build: ({ failed, round }) =>
    Promise.resolve({
      kind: "environment_feedback",
      text: `FEEDBACK r${round} for ${failed.trajectoryId}`,
      source: "verifier_report",
    }),
};
const plan: GuidanceProvider = {
  kind: "plan_hint",
  build: ({ feedback: fb }) => Promise.resolve({ kind: "plan_hint", text: `PLAN after [${fb}]`, source: "teacher" }),
};
const broken: GuidanceProvider = { kind: "plan_hint", build: () => Promise.reject(new Error("teacher down")) };

function policy(p: Partial<GuidancePolicy> = {}): GuidancePolicy {
  return { trigger: "on_fail", maxRounds: 1, successThreshold: 1, ...p };
}

/** Scores by index: `firstScores[i]` for first attempts; re-attempts pass iff `guidedPass(req)`. */
function runner(firstScores: number[], guidedPass: (r: AttemptRequest) => boolean, infra: number[] = []) {
  const calls: AttemptRequest[] = [];
  return {
    calls,
    run: (req: AttemptRequest) => {
      calls.push(req);
      if (req.round === 0) {
        const failure = infra.includes(req.indexInGroup)
          ? FailureKind.FAILURE_KIND_SANDBOX_ERROR
          : FailureKind.FAILURE_KIND_NONE;
        return Promise.resolve(trajectory(req, firstScores[req.indexInGroup] ?? 0, failure));
      }
      return Promise.resolve(trajectory(req, guidedPass(req) ? 1 : 0));
    },
  };
}

void describe("runGuidedGroup (Agent-RLVR state machine)", () => {
  void it("on_fail guides exactly the failed first attempts, once each, and records complete guidance", async () => {
    const r = runner([1, 0, 1, 0], () => true);
    const res = await runGuidedGroup({
      task: { id: "t", payload: {} },
      groupSize: 4,
      policy: policy(),
      providers: [feedback, plan],
      runAttempt: r.run,
    });
    assert.equal(res.trajectories.length, 6);
    const re = r.calls.filter((c) => c.round > 0);
    assert.deepEqual(
      re.map((c) => c.indexInGroup),
      [4, 5],
    );
    const guided = res.trajectories.slice(4);
    assert.deepEqual(
      guided.map((t) => t.guidedFromTrajectoryId),
      ["g-1", "g-3"],
    );
    for (const t of res.trajectories) assert.equal(t.groupSize, 6);
    for (const t of res.trajectories.slice(0, 4)) {
      assert.equal(t.guidanceRound, 0);
      assert.deepEqual(t.guidance, []);
    }
    const g = guided[0]!;
    assert.equal(g.guidanceRound, 1);
    assert.deepEqual(
      g.guidance.map((x) => [x.kind, x.round, x.injectedAtTurn, x.source]),
      [
        ["environment_feedback", 1, 0, "verifier_report"],
        ["plan_hint", 1, 0, "teacher"],
      ],
    );
    assert.equal(g.guidance[0]!.text, "FEEDBACK r1 for g-1");
    assert.equal(g.guidance[1]!.text, "PLAN after [FEEDBACK r1 for g-1]", "the teacher sees the feedback");
    // The span is exactly the inserted guidance: removing it gives the unguided prompt's tokens.
    const obs = unpackInt32(g.turns[0]!.observationTokenIds);
    const { tokenStart, tokenEnd } = g.guidance[0]!;
    assert.ok(tokenEnd > tokenStart);
    const stripped = [...obs.slice(0, tokenStart), ...obs.slice(tokenEnd)];
    assert.deepEqual(stripped, codes(PROMPT));
    assert.ok(String.fromCodePoint(...obs.slice(tokenStart, tokenEnd)).includes("FEEDBACK r1"));
    assert.equal(res.firstPassed, 2);
    assert.equal(res.rounds, 1);
    assert.deepEqual(
      res.reattempts.map((a) => [a.passed, a.spanKnown]),
      [
        [true, true],
        [true, true],
      ],
    );
  });

  void it("all_group_fail does not guide a group where some attempt passed", async () => {
    const r = runner([0, 1, 0, 0], () => true);
    const res = await runGuidedGroup({
      task: { id: "t", payload: {} },
      groupSize: 4,
      policy: policy({ trigger: "all_group_fail" }),
      providers: [feedback],
      runAttempt: r.run,
    });
    assert.equal(res.trajectories.length, 4);
    assert.equal(r.calls.filter((c) => c.round > 0).length, 0);
    assert.equal(res.rounds, 0);
    for (const t of res.trajectories) assert.equal(t.groupSize, 4);
  });

  void it("all_group_fail guides every failed attempt when all valid attempts failed; infra failures are never guided", async () => {
    const r = runner([0, 0, 0, 0], () => false, [2]);
    const res = await runGuidedGroup({
      task: { id: "t", payload: {} },
      groupSize: 4,
      policy: policy({ trigger: "all_group_fail" }),
      providers: [feedback],
      runAttempt: r.run,
    });
    assert.deepEqual(
      res.trajectories.slice(4).map((t) => t.guidedFromTrajectoryId),
      ["g-0", "g-1", "g-3"],
    );
  });

  void it("rounds are bounded by maxRounds; a re-attempt that fails is guided again from its own failure", async () => {
    const r = runner([0, 0], () => false);
    const res = await runGuidedGroup({
      task: { id: "t", payload: {} },
      groupSize: 2,
      policy: policy({ maxRounds: 3 }),
      providers: [feedback],
      runAttempt: r.run,
    });
    assert.equal(res.rounds, 3);
    assert.equal(res.trajectories.length, 2 + 2 * 3);
    assert.deepEqual(
      r.calls.map((c) => c.round),
      [0, 0, 1, 1, 2, 2, 3, 3],
    );
    const last = res.trajectories.at(-1)!;
    assert.equal(last.guidanceRound, 3);
    assert.equal(last.guidance[0]!.round, 3);
    // Round 3 guidance comes from the round-2 re-attempt, not from the first attempt.
    const parent = res.trajectories.find((t) => t.trajectoryId === last.guidedFromTrajectoryId)!;
    assert.equal(parent.guidanceRound, 2);
    assert.equal(new Set(res.trajectories.map((t) => t.indexInGroup)).size, res.trajectories.length);
  });

  void it("stops early once every re-attempt passed", async () => {
    const r = runner([0, 0], () => true);
    const res = await runGuidedGroup({
      task: { id: "t", payload: {} },
      groupSize: 2,
      policy: policy({ maxRounds: 4 }),
      providers: [feedback],
      runAttempt: r.run,
    });
    assert.equal(res.rounds, 1);
    assert.equal(res.trajectories.length, 4);
  });

  void it("a failing provider is skipped and counted; no provider text means no re-attempt", async () => {
    const r = runner([0], () => true);
    const res = await runGuidedGroup({
      task: { id: "t", payload: {} },
      groupSize: 1,
      policy: policy(),
      providers: [broken, feedback],
      runAttempt: r.run,
    });
    assert.equal(res.providerErrors, 1);
    assert.deepEqual(
      res.trajectories[1]!.guidance.map((g) => g.kind),
      ["environment_feedback"],
    );
    const r2 = runner([0], () => true);
    const none = await runGuidedGroup({
      task: { id: "t", payload: {} },
      groupSize: 1,
      policy: policy(),
      providers: [broken],
      runAttempt: r2.run,
    });
    assert.equal(none.trajectories.length, 1);
    assert.equal(r2.calls.length, 1);
  });
});
