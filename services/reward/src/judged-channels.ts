import { contracts, validateTrajectory } from "@sluice/common";
import { PRM_CHANNEL, prmChannelValue, type PrmJudge, type PrmScores } from "./channels/prm.js";
import { isInfrastructureFailure, type RewardConfig } from "./scorer.js";

/**
 * Channels scored asynchronously by a judge (today: the generative PRM), keyed by channel
 * name, to pass to scoreTrajectory. Invalid trajectories and infrastructure failures are not
 * sent to the judge. Never throws: a failed judge gives default scores (gate_passed false).
 */
export async function judgedChannels(
  t: contracts.Trajectory,
  config: RewardConfig,
  prm: PrmJudge | undefined,
  signal?: AbortSignal,
  onScores?: (scores: PrmScores) => void | Promise<void>,
): Promise<Map<string, contracts.RewardChannel>> {
  const out = new Map<string, contracts.RewardChannel>();
  if (!prm || !config.prm.enabled || isInfrastructureFailure(t)) return out;
  try {
    validateTrajectory(t);
  } catch {
    return out; // scoreTrajectory rejects it with the reason
  }
  const scores = await prm.score(t, signal);
  await onScores?.(scores);
  const v = prmChannelValue(scores, config.prm);
  const cExt = config.oni.enabled ? config.oni.cExt : 1;
  out.set(PRM_CHANNEL, { ...v, weight: cExt * v.weight }); // r_t = c_ext · r_ext,t + …
  return out;
}
