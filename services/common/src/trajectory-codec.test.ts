import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "./errors.js";
import { FailureKind, OutcomeLevel, ScoredTrajectory, Trajectory, type Turn } from "./gen/sluice/v1/trajectory.js";
import { packFloat32, packInt32 } from "./packing.js";
import { decodeScoredTrajectory, decodeTrajectory, validateTrajectory } from "./trajectory-codec.js";

function turn(tokens: number, overrides: Partial<Turn> = {}): Turn {
  const ids = Array.from({ length: tokens }, (_, i) => i + 10);
  return {
    observationTokenIds: packInt32([1, 2, 3]),
    actionTokenIds: packInt32(ids),
    actionLogprobs: packFloat32(ids.map(() => -0.5)),
    actionPolicyVersions: packInt32(ids.map(() => 3)),
    actionLossMask: new Uint8Array(0),
    observationText: "",
    actionText: "",
    toolCalls: [],
    finishReason: "stop",
    startedAtMs: 0,
    finishedAtMs: 0,
    ...overrides,
  };
}

function trajectory(turns: Turn[]): Trajectory {
  return Trajectory.fromPartial({
    trajectoryId: "t-1",
    experiment: "exp",
    groupId: "g-1",
    groupSize: 2,
    turns,
    outcome: { level: OutcomeLevel.OUTCOME_LEVEL_RESOLVED, score: 1 },
    failure: FailureKind.FAILURE_KIND_NONE,
  });
}

const encode = (t: Trajectory): Uint8Array => Trajectory.encode(t).finish();

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

void describe("trajectory codec", () => {
  void it("round-trips a consistent trajectory", () => {
    const t = trajectory([turn(4), turn(2, { actionLossMask: new Uint8Array([1, 0]) })]);
    const back = decodeTrajectory(encode(t));
    assert.equal(back.trajectoryId, "t-1");
    assert.equal(back.turns.length, 2);
    assert.equal(back.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED);
  });

  const inconsistent: { name: string; turns: Turn[]; pattern: RegExp }[] = [
    {
      name: "too few logprobs",
      turns: [turn(3), turn(4, { actionLogprobs: packFloat32([0, 0]) })],
      pattern: /turn 1: action_logprobs has 2 entries for 4 action tokens/,
    },
    {
      name: "too many policy versions",
      turns: [turn(2, { actionPolicyVersions: packInt32([1, 1, 1]) })],
      pattern: /turn 0: action_policy_versions has 3 entries for 2 action tokens/,
    },
    {
      name: "loss mask of the wrong length",
      turns: [turn(2), turn(2), turn(3, { actionLossMask: new Uint8Array([1]) })],
      pattern: /turn 2: action_loss_mask has 1 entries for 3 action tokens/,
    },
    {
      name: "token bytes not a multiple of 4",
      turns: [turn(1, { actionTokenIds: new Uint8Array(5) })],
      pattern: /turn 0: action_token_ids byte length 5 is not a multiple of 4/,
    },
    {
      name: "observation bytes not a multiple of 4",
      turns: [turn(1, { observationTokenIds: new Uint8Array(2) })],
      pattern: /turn 0: observation_token_ids byte length 2/,
    },
  ];
  for (const c of inconsistent) {
    void it(`rejects ${c.name}, naming the turn and field`, () => {
      rejects(() => decodeTrajectory(encode(trajectory(c.turns))), c.pattern);
    });
  }

  void it("rejects missing ids and a bad group size", () => {
    rejects(() => validateTrajectory({ ...trajectory([]), trajectoryId: "" }), /trajectory_id is empty/);
    rejects(() => validateTrajectory({ ...trajectory([]), groupId: "" }), /t-1: group_id is empty/);
    rejects(() => validateTrajectory({ ...trajectory([]), groupSize: 0 }), /group_size must be >= 1, got 0/);
  });

  void it("rejects garbage bytes with a ValidationError", () => {
    rejects(
      () => decodeTrajectory(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
      /not a valid protobuf message/,
    );
    rejects(() => decodeTrajectory(new TextEncoder().encode("definitely not protobuf {}")), /trajectory/);
  });

  void it("decodes a scored trajectory and checks its per-turn rewards", () => {
    const t = trajectory([turn(2), turn(2)]);
    const ok = ScoredTrajectory.fromPartial({ trajectory: t, reward: 1, perTurnReward: [0, 1], composition: "sum" });
    assert.equal(decodeScoredTrajectory(ScoredTrajectory.encode(ok).finish()).reward, 1);
    const bad = ScoredTrajectory.fromPartial({ trajectory: t, reward: 1, perTurnReward: [1] });
    rejects(
      () => decodeScoredTrajectory(ScoredTrajectory.encode(bad).finish()),
      /per_turn_reward has 1 entries for 2 turns/,
    );
    const nan = ScoredTrajectory.fromPartial({ trajectory: t, reward: Number.NaN });
    rejects(() => decodeScoredTrajectory(ScoredTrajectory.encode(nan).finish()), /reward is not finite/);
    rejects(
      () => decodeScoredTrajectory(ScoredTrajectory.encode(ScoredTrajectory.fromPartial({})).finish()),
      /missing trajectory/,
    );
  });
});
