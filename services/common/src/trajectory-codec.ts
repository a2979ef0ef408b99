import { ValidationError } from "./errors.js";
import { ScoredTrajectory, Trajectory } from "./gen/sluice/v1/trajectory.js";

/** Decodes a Trajectory and checks its internal consistency; throws ValidationError. */
export function decodeTrajectory(data: Uint8Array): Trajectory {
  let t: Trajectory;
  try {
    t = Trajectory.decode(data);
  } catch (cause) {
    throw new ValidationError(`trajectory: not a valid protobuf message (${(cause as Error).message})`, { cause });
  }
  validateTrajectory(t);
  return t;
}

export function decodeScoredTrajectory(data: Uint8Array): ScoredTrajectory {
  let s: ScoredTrajectory;
  try {
    s = ScoredTrajectory.decode(data);
  } catch (cause) {
    throw new ValidationError(`scored trajectory: not a valid protobuf message (${(cause as Error).message})`, {
      cause,
    });
  }
  if (!s.trajectory) throw new ValidationError("scored trajectory: missing trajectory");
  validateTrajectory(s.trajectory);
  if (s.perTurnReward.length !== 0 && s.perTurnReward.length !== s.trajectory.turns.length) {
    throw new ValidationError(
      `scored trajectory ${s.trajectory.trajectoryId}: per_turn_reward has ${s.perTurnReward.length} entries for ${s.trajectory.turns.length} turns`,
    );
  }
  if (!Number.isFinite(s.reward)) {
    throw new ValidationError(`scored trajectory ${s.trajectory.trajectoryId}: reward is not finite`);
  }
  return s;
}

/** Lengths of the packed per-token arrays must agree; ids must be present. */
export function validateTrajectory(t: Trajectory): void {
  const where = `trajectory ${t.trajectoryId || "(no id)"}`;
  if (!t.trajectoryId) throw new ValidationError(`${where}: trajectory_id is empty`);
  if (!t.groupId) throw new ValidationError(`${where}: group_id is empty`);
  if (t.groupSize < 1) throw new ValidationError(`${where}: group_size must be >= 1, got ${t.groupSize}`);
  t.turns.forEach((turn, i) => {
    const at = `${where} turn ${i}`;
    for (const [name, bytes] of [
      ["action_token_ids", turn.actionTokenIds],
      ["observation_token_ids", turn.observationTokenIds],
      ["action_logprobs", turn.actionLogprobs],
      ["action_policy_versions", turn.actionPolicyVersions],
    ] as const) {
      if (bytes.length % 4 !== 0)
        throw new ValidationError(`${at}: ${name} byte length ${bytes.length} is not a multiple of 4`);
    }
    const tokens = turn.actionTokenIds.length / 4;
    const expect = (name: string, entries: number, required: boolean): void => {
      if (entries === tokens || (!required && entries === 0)) return;
      throw new ValidationError(`${at}: ${name} has ${entries} entries for ${tokens} action tokens`);
    };
    expect("action_logprobs", turn.actionLogprobs.length / 4, true);
    expect("action_policy_versions", turn.actionPolicyVersions.length / 4, true);
    expect("action_loss_mask", turn.actionLossMask.length, false);
  });
}
