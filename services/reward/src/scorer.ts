import { contracts, errorMessage, validateTrajectory, type ExperimentSpec } from "@sluice/common";
import type { ChannelScorer } from "./channels/channel.js";
import { outcomeChannel } from "./channels/outcome.js";
import { TrajectoryRejectedError } from "./errors.js";

export type RewardConfig = ExperimentSpec["reward"];

export const COMPOSITION_SUM = "sum";

const { FailureKind } = contracts;

/** The channels a reward config enables, in composition order. */
export function buildChannels(config: RewardConfig): ChannelScorer[] {
  return [outcomeChannel(config.outcome)];
}

/** True when the episode failed for an infrastructure reason (masked by the learner). */
export function isInfrastructureFailure(t: contracts.Trajectory): boolean {
  return t.failure !== FailureKind.FAILURE_KIND_UNSPECIFIED && t.failure !== FailureKind.FAILURE_KIND_NONE;
}

/**
 * Scores one trajectory: every channel's value, their weighted sum, and per-turn
 * rewards aligned with the turns. Throws TrajectoryRejectedError for trajectories
 * that cannot be scored. Infrastructure failures are not rejected: they pass through
 * with reward 0 and every channel gated off; their `failure` field tells the learner
 * to mask them.
 */
export function scoreTrajectory(
  trajectory: contracts.Trajectory,
  config: RewardConfig,
  channels: readonly ChannelScorer[] = buildChannels(config),
  now: () => number = Date.now,
): contracts.ScoredTrajectory {
  try {
    validateTrajectory(trajectory);
  } catch (err) {
    throw new TrajectoryRejectedError(trajectory.trajectoryId, "inconsistent", errorMessage(err), { cause: err });
  }
  if (isInfrastructureFailure(trajectory)) {
    return {
      trajectory,
      channels: channels.map((c) => ({
        name: c.name,
        value: 0,
        perTurn: [],
        producerVersion: "",
        gatePassed: false,
        weight: 0,
      })),
      reward: 0,
      perTurnReward: [],
      composition: COMPOSITION_SUM,
      scoredAtMs: now(),
    };
  }
  const values = channels.map((c) => c.score(trajectory));
  // Per-turn rewards exist only when some channel scores turns; otherwise the field stays
  // empty so the learner can tell "no per-turn signal" from "all turns scored 0".
  const perTurnReward = values.some((v) => v.perTurn.length > 0) ? trajectory.turns.map(() => 0) : [];
  let reward = 0;
  for (const ch of values) {
    const weight = ch.gatePassed ? ch.weight : 0;
    reward += weight * ch.value;
    ch.perTurn.forEach((v, i) => {
      if (i < perTurnReward.length) perTurnReward[i] = (perTurnReward[i] ?? 0) + weight * v;
    });
  }
  return { trajectory, channels: values, reward, perTurnReward, composition: COMPOSITION_SUM, scoredAtMs: now() };
}

export interface BatchResult {
  scored: contracts.ScoredTrajectory[];
  rejected: TrajectoryRejectedError[];
}

/** Scores a batch; a rejected trajectory does not affect the others. */
export function scoreBatch(trajectories: readonly contracts.Trajectory[], config: RewardConfig): BatchResult {
  const channels = buildChannels(config);
  const out: BatchResult = { scored: [], rejected: [] };
  for (const t of trajectories) {
    try {
      out.scored.push(scoreTrajectory(t, config, channels));
    } catch (err) {
      if (!(err instanceof TrajectoryRejectedError)) throw err;
      out.rejected.push(err);
    }
  }
  return out;
}
