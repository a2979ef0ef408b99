import { contracts, validateTrajectory } from "@sluice/common";
import type { OniModelScorer } from "./channels/oni-model.js";
import { PRM_CHANNEL, prmChannelValue, type PrmScores } from "./channels/prm.js";
import type { PrmStepScorer } from "./channels/prm-engine.js";
import { isInfrastructureFailure, type RewardConfig } from "./scorer.js";

/**
 * Channels scored asynchronously (the PRM judge or engine PRM; ONI's engine-hosted reward
 * model), keyed by channel name, to pass to scoreTrajectory. Invalid trajectories and
 * infrastructure failures are not scored. Never throws: a failed scorer gives default scores
 * (gate_passed false).
 */
export async function judgedChannels(
  t: contracts.Trajectory,
  config: RewardConfig,
  prm: PrmStepScorer | undefined,
  signal?: AbortSignal,
  onScores?: (scores: PrmScores) => void | Promise<void>,
  oniModel?: OniModelScorer,
): Promise<Map<string, contracts.RewardChannel>> {
  const out = new Map<string, contracts.RewardChannel>();
  const wantPrm = prm !== undefined && config.prm.enabled;
  const wantOni = oniModel !== undefined && config.oni.enabled && config.oni.rewardType !== "retrieval";
  if ((!wantPrm && !wantOni) || isInfrastructureFailure(t)) return out;
  try {
    validateTrajectory(t);
  } catch {
    return out; // scoreTrajectory rejects it with the reason
  }
  const [scores, oni] = await Promise.all([
    wantPrm ? prm.score(t, signal) : undefined,
    wantOni ? oniModel.channel(t, signal) : undefined,
  ]);
  if (oni) out.set(oni.name, oni); // weight c_int
  if (!scores) return out;
  await onScores?.(scores);
  const v = prmChannelValue(scores, config.prm);
  const cExt = config.oni.enabled ? config.oni.cExt : 1;
  const producerVersion = scores.producerVersion ?? v.producerVersion;
  out.set(PRM_CHANNEL, { ...v, producerVersion, weight: cExt * v.weight }); // r_t = c_ext · r_ext,t + …
  return out;
}
