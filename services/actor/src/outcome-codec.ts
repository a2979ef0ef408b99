import { contracts } from "@sluice/common";
import type { EpisodeOutcome, OutcomeLevelName } from "./environment.js";

const LEVELS: Record<OutcomeLevelName, contracts.OutcomeLevel> = {
  NO_SUBMIT: contracts.OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT,
  EMPTY_PATCH: contracts.OutcomeLevel.OUTCOME_LEVEL_EMPTY_PATCH,
  PATCH_APPLY_FAILED: contracts.OutcomeLevel.OUTCOME_LEVEL_PATCH_APPLY_FAILED,
  TESTS_FAIL: contracts.OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL,
  RESOLVED: contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED,
};

/** Environment outcome -> proto Outcome; per-turn scores only when one per policy turn. */
export function toProtoOutcome(o: EpisodeOutcome, policyTurns?: number): contracts.Outcome {
  const perTurn = o.perTurnScores ?? [];
  const alignedTurnScores = perTurn.length > 0 && perTurn.length === policyTurns && perTurn.every(Number.isFinite);
  return {
    turnScores: alignedTurnScores ? [...perTurn] : [],
    level: LEVELS[o.level],
    score: Number.isFinite(o.score) ? o.score : 0,
    submitted: o.submitted,
    modified: o.modified,
    detail: o.detail,
  };
}

/** What an episode that never reached its environment reports. */
export const NO_OUTCOME: EpisodeOutcome = {
  level: "NO_SUBMIT",
  score: 0,
  submitted: false,
  modified: false,
  detail: "environment produced no outcome",
};
