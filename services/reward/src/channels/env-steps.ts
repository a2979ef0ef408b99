import type { contracts, ExperimentSpec } from "@sluice/common";
import type { ChannelScorer } from "./channel.js";

export type EnvStepsConfig = ExperimentSpec["reward"]["envSteps"];

export const ENV_STEPS_CHANNEL = "env_steps";
export const ENV_STEPS_PRODUCER_VERSION = "env-steps/v1";

/**
 * The environment's own per-turn scores (Outcome.turn_scores) as a step channel: G-RA's
 * low-level rewards r_low,t when the environment scores its steps (arXiv 2508.10548).
 * With `outcome.source: level` the outcome channel carries r_high and this one the dense
 * reward, so a G-RA gate on `outcome` decides whether the steps count:
 * `R = r_high + 1[r_high ≥ δ] · Σ_t r_low,t`.
 *
 * Value `Σ_t r_low,t`; per-turn values when the environment gave one score per turn,
 * otherwise no per-turn values and value 0 (the environment scores no steps). The actor
 * only records turn scores aligned with the turns; anything else here is not a step score.
 */
export function envStepsChannel(config: EnvStepsConfig): ChannelScorer {
  return {
    name: ENV_STEPS_CHANNEL,
    score(t: contracts.Trajectory): contracts.RewardChannel {
      const scores = t.outcome?.turnScores ?? [];
      const aligned = scores.length > 0 && scores.length === t.turns.length && scores.every(Number.isFinite);
      const perTurn = aligned ? [...scores] : [];
      return {
        name: ENV_STEPS_CHANNEL,
        // R_low = Σ_t r_low,t
        value: perTurn.reduce((a, b) => a + b, 0),
        perTurn,
        producerVersion: ENV_STEPS_PRODUCER_VERSION,
        gatePassed: true,
        weight: config.weight,
      };
    },
  };
}
