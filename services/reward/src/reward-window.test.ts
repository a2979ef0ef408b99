import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts } from "@sluice/common";
import { RewardWindow } from "./reward-window.js";
import { makeTrajectory } from "./testing/fixtures.js";

const { OutcomeLevel: L } = contracts;

function scored(level: contracts.OutcomeLevel, submitted: boolean, modified: boolean, stepsOpen: boolean) {
  return contracts.ScoredTrajectory.fromPartial({
    trajectory: makeTrajectory({ outcome: contracts.Outcome.fromPartial({ level, submitted, modified }) }),
    channels: [
      { name: "outcome", value: 1, gatePassed: true, weight: 1 },
      { name: "steps", value: 2, gatePassed: stepsOpen, weight: 1 },
    ],
  });
}

void describe("RewardWindow", () => {
  void it("computes CR, MR, RR and per-channel means over the last N episodes", () => {
    const w = new RewardWindow(4);
    w.add(scored(L.OUTCOME_LEVEL_RESOLVED, true, true, true)); // falls out of the window
    w.add(scored(L.OUTCOME_LEVEL_NO_SUBMIT, false, true, false)); // modified but not submitted: not in MR
    w.add(scored(L.OUTCOME_LEVEL_TESTS_FAIL, true, true, true));
    w.add(scored(L.OUTCOME_LEVEL_EMPTY_PATCH, true, false, false));
    w.add(scored(L.OUTCOME_LEVEL_RESOLVED, true, true, true));
    const s = w.stats();
    assert.equal(s.episodes, 4);
    assert.equal(s.completionRate, 0.75);
    assert.equal(s.modificationRate, 0.5);
    assert.equal(s.resolutionRate, 0.25);
    assert.deepEqual(s.channels.get("steps"), { meanRaw: 2, meanGated: 1, gateOpenRate: 0.5 });
    assert.deepEqual(s.channels.get("outcome"), { meanRaw: 1, meanGated: 1, gateOpenRate: 1 });
  });

  void it("is all zeros when empty", () => {
    const s = new RewardWindow(3).stats();
    assert.deepEqual([s.episodes, s.completionRate, s.modificationRate, s.resolutionRate], [0, 0, 0, 0]);
  });
});
