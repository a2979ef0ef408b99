import assert from "node:assert/strict";
import { it } from "node:test";
import { contracts } from "@sluice/common";
import { emptyEpisodeStats, tallyTrajectory } from "./episode-stats.js";

const { FailureKind, OutcomeLevel } = contracts;

function trajectory(doneReason: string, level: contracts.OutcomeLevel, failure: contracts.FailureKind) {
  return contracts.Trajectory.fromPartial({
    trajectoryId: "t",
    doneReason,
    failure,
    outcome: { level, score: 0, submitted: false, modified: false, detail: "", turnScores: [] },
  });
}

void it("tallies done reasons, outcome levels and failure kinds without their enum prefixes", () => {
  const stats = emptyEpisodeStats();
  tallyTrajectory(stats, trajectory("max_turns", OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT, FailureKind.FAILURE_KIND_NONE));
  tallyTrajectory(stats, trajectory("max_turns", OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT, FailureKind.FAILURE_KIND_NONE));
  tallyTrajectory(stats, trajectory("submitted", OutcomeLevel.OUTCOME_LEVEL_RESOLVED, FailureKind.FAILURE_KIND_NONE));
  tallyTrajectory(stats, trajectory("", OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT, FailureKind.FAILURE_KIND_SANDBOX_ERROR));
  assert.deepEqual(stats, {
    count: 4,
    done_reasons: { max_turns: 2, submitted: 1, none: 1 },
    outcome_levels: { NO_SUBMIT: 3, RESOLVED: 1 },
    failures: { NONE: 3, SANDBOX_ERROR: 1 },
    by_guidance_round: { "0": { count: 4, resolved: 1 } },
    unreadable: 0,
    stream_messages: 0,
    complete: true,
  });
});
