import { contracts, type ExperimentSpec } from "@sluice/common";
import { TrajectoryRejectedError } from "../errors.js";
import type { ChannelScorer } from "./channel.js";

export type OutcomeConfig = ExperimentSpec["reward"]["outcome"];
type LevelName = keyof OutcomeConfig["levels"];

export const OUTCOME_CHANNEL = "outcome";
export const OUTCOME_PRODUCER_VERSION = "outcome/v1";

const { OutcomeLevel } = contracts;

const LEVEL_NAMES: ReadonlyMap<contracts.OutcomeLevel, LevelName> = new Map([
  [OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT, "NO_SUBMIT"],
  [OutcomeLevel.OUTCOME_LEVEL_EMPTY_PATCH, "EMPTY_PATCH"],
  [OutcomeLevel.OUTCOME_LEVEL_PATCH_APPLY_FAILED, "PATCH_APPLY_FAILED"],
  [OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL, "TESTS_FAIL"],
  [OutcomeLevel.OUTCOME_LEVEL_RESOLVED, "RESOLVED"],
]);

/**
 * The environment's verdict as a reward: either its scalar score, or the configured
 * value of the outcome level. Rejects trajectories without an outcome or a level.
 */
export function outcomeChannel(config: OutcomeConfig): ChannelScorer {
  return {
    name: OUTCOME_CHANNEL,
    score(t) {
      const outcome = t.outcome;
      if (!outcome) throw new TrajectoryRejectedError(t.trajectoryId, "missing_outcome", "trajectory has no outcome");
      const levelName = LEVEL_NAMES.get(outcome.level);
      if (levelName === undefined) {
        throw new TrajectoryRejectedError(
          t.trajectoryId,
          "unspecified_level",
          `outcome level ${contracts.outcomeLevelToJSON(outcome.level)} is not a scored level`,
        );
      }
      const value = config.source === "score" ? outcome.score : config.levels[levelName];
      if (!Number.isFinite(value)) {
        throw new TrajectoryRejectedError(
          t.trajectoryId,
          "inconsistent",
          `outcome ${config.source} is not finite (${value})`,
        );
      }
      // With source "score", the environment's per-turn scores (when it gives one per
      // turn) become the channel's per-turn values; levels describe whole episodes only.
      const perTurn =
        config.source === "score" &&
        outcome.turnScores.length === t.turns.length &&
        outcome.turnScores.every(Number.isFinite)
          ? [...outcome.turnScores]
          : [];
      return {
        name: OUTCOME_CHANNEL,
        value,
        perTurn,
        producerVersion: OUTCOME_PRODUCER_VERSION,
        gatePassed: true,
        weight: 1,
      };
    },
  };
}
