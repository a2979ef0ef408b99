/** The learner's counters; GetStatus and checkpoints report them. */
export interface LearnerStatus {
  step: number;
  policyVersion: number;
  trajectoriesTrained: number;
  /** Dropped trajectories by reason: stale, infra_<kind>, group_timeout, duplicate, malformed. */
  trajectoriesDropped: Record<string, number>;
  /** Mean episode reward over the valid trajectories of each step. */
  rewardMeanByStep: number[];
  /** CR per step: the share of the step's valid trajectories whose episode submitted (G-RA). */
  completionRateByStep: number[];
  finished: boolean;
}

export function emptyStatus(): LearnerStatus {
  return {
    step: 0,
    policyVersion: 0,
    trajectoriesTrained: 0,
    trajectoriesDropped: {},
    rewardMeanByStep: [],
    completionRateByStep: [],
    finished: false,
  };
}

export function cloneStatus(s: LearnerStatus): LearnerStatus {
  return {
    ...s,
    trajectoriesDropped: { ...s.trajectoriesDropped },
    rewardMeanByStep: [...s.rewardMeanByStep],
    completionRateByStep: [...s.completionRateByStep],
  };
}
