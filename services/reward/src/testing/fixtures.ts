import { contracts, packFloat32, packInt32 } from "@sluice/common";

/** A consistent turn with `tokens` action tokens. */
export function makeTurn(tokens = 2, overrides: Partial<contracts.Turn> = {}): contracts.Turn {
  const ids = Array.from({ length: tokens }, (_, i) => 100 + i);
  return contracts.Turn.fromPartial({
    observationTokenIds: packInt32([1, 2]),
    actionTokenIds: packInt32(ids),
    actionLogprobs: packFloat32(ids.map(() => -1)),
    actionPolicyVersions: packInt32(ids.map(() => 0)),
    finishReason: "stop",
    ...overrides,
  });
}

/** A resolved, consistent two-turn trajectory; override any field. */
export function makeTrajectory(overrides: Partial<contracts.Trajectory> = {}): contracts.Trajectory {
  return contracts.Trajectory.fromPartial({
    trajectoryId: "traj-1",
    experiment: "exp",
    taskId: "task-1",
    groupId: "group-1",
    groupSize: 4,
    turns: [makeTurn(), makeTurn(3)],
    outcome: { level: contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED, score: 1, submitted: true },
    failure: contracts.FailureKind.FAILURE_KIND_NONE,
    ...overrides,
  });
}
