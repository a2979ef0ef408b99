import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ETAS, SWE_LIKE, type SimConfig } from "./config.js";
import { percentile, simulate } from "./simulation.js";
import { sweep } from "./sweep.js";

/** The SWE-like model, shorter: every property below must hold at any length. */
const BASE: SimConfig = { ...SWE_LIKE, steps: 60, seed: 11 };

/**
 * One group of one episode per step, two slots, η = 1, every episode exactly 100 s of
 * generation (σ = 0, one turn, no tools): a timeline that can be worked out by hand.
 */
const TINY: SimConfig = {
  ...SWE_LIKE,
  seed: 1,
  steps: 3,
  maxStaleness: 1,
  groupSize: 1,
  groupsPerStep: 1,
  actors: 1,
  slotsPerActor: 2,
  episode: { medianS: 100, sigma: 0, capS: 1000 },
  turnsPerEpisode: 1,
  generationShare: 1,
  learnerStepS: 10,
  weightSyncS: 5,
  resumeOverheadS: 1,
  groupTimeoutS: 10_000,
  admissionBudget: "open",
};

void describe("staleness simulation", () => {
  for (const partialRollouts of [true, false]) {
    const mode = partialRollouts ? "on" : "off";

    void it(`η = 0 is synchronous: no step starts with a rollout in flight, every sample 0 versions old (partial ${mode})`, () => {
      const r = simulate({ ...BASE, maxStaleness: 0, partialRollouts });
      assert.equal(r.wedged, false);
      assert.equal(r.steps, BASE.steps);
      assert.equal(r.maxInFlightAtStepStart, 0);
      assert.deepEqual(r.stalenessHistogram, [BASE.steps * BASE.groupsPerStep * BASE.groupSize]);
      assert.equal(r.trained, BASE.steps * BASE.groupsPerStep * BASE.groupSize);
      assert.equal(r.tokenLagMean, 0);
      assert.equal(r.mixedVersionTrajectories, 0);
    });

    void it(`never trains a sample more than η versions old (partial ${mode})`, () => {
      for (const eta of ETAS) {
        const r = simulate({ ...BASE, maxStaleness: eta, partialRollouts });
        assert.equal(r.steps, BASE.steps, `η=${eta}`);
        assert.ok(r.stalenessMax <= eta, `η=${eta}: max staleness ${r.stalenessMax}`);
        assert.ok(r.stalenessHistogram.length <= eta + 1, `η=${eta}: ${r.stalenessHistogram.join(",")}`);
        assert.ok(r.stalenessP95 <= eta);
        assert.ok(r.tokenLagMean <= eta);
      }
    });
  }

  void it("gives at least the throughput of a smaller η on the same seed, partial rollouts on and off", () => {
    const rows = sweep({ ...BASE, steps: 40 });
    for (const partialRollouts of [true, false]) {
      const perEta = rows.filter((r) => r.partialRollouts === partialRollouts).map((r) => r.result.stepsPerHour);
      assert.equal(perEta.length, ETAS.length);
      for (let i = 1; i < perEta.length; i++) {
        assert.ok(perEta[i]! >= perEta[i - 1]!, `partial ${partialRollouts}: η=${ETAS[i]} ${perEta.join(" ")}`);
      }
      // And asynchrony pays on this long tail at all.
      assert.ok(perEta.at(-1)! > 1.5 * perEta[0]!, perEta.join(" "));
    }
  });

  void it("drops nothing as stale with partial rollouts off at η = 0: admission prevents it", () => {
    const r = simulate({ ...BASE, maxStaleness: 0, partialRollouts: false, admissionBudget: "exact" });
    assert.equal(r.dropped.stale ?? 0, 0);
    assert.deepEqual(r.dropped, {});
    assert.equal(r.staleFraction, 0);
    assert.equal(r.wedged, false);
  });

  void it("finishes on the exact budget when the slots of groups dropped whole are given back", () => {
    const config: SimConfig = { ...BASE, maxStaleness: 4, admissionBudget: "exact" };
    const kept = simulate({ ...config, releaseDroppedGroups: false });
    assert.ok(kept.groupsDroppedWhole > 0, "the scenario must drop a group");
    assert.equal(kept.wedged, true);
    const released = simulate({ ...config, releaseDroppedGroups: true });
    assert.ok(released.groupsDroppedWhole > 0);
    assert.equal(released.wedged, false);
    assert.equal(released.steps, config.steps);
  });

  void it("is deterministic for a seed", () => {
    const config: SimConfig = { ...BASE, steps: 20, maxStaleness: 4 };
    assert.deepEqual(simulate(config), simulate(config));
    assert.notEqual(simulate({ ...config, seed: 12 }).makespanS, simulate(config).makespanS);
  });

  void it("with partial rollouts on, an update interrupts a generation and its later tokens carry the new version", () => {
    // t=0 g0,g1 start; t=100 both end, the learner trains g0 (v0) until 110, loads until 115 → v1;
    // g2 starts at 115, the learner trains g1 (lag 1) until 125; the update interrupts g2 after
    // 10 s at v1, loads until 130 → v2; g2 resumes at 131 (re-prefill) and ends at 221 with 90 s
    // at v2; g3 started at 130. The learner trains g2 (oldest token v1, lag 1) until 231, → v3 at 236.
    const r = simulate({ ...TINY, partialRollouts: true });
    assert.equal(r.makespanS, 236);
    assert.deepEqual(r.stalenessHistogram, [1, 2]);
    assert.equal(r.mixedVersionTrajectories, 1);
    assert.equal(r.meanDrainS, 0);
    assert.ok(Math.abs(r.tokenLagMean - 110 / 300) < 1e-9, String(r.tokenLagMean));
  });

  void it("with partial rollouts off, an update waits for the generation in flight, which keeps its start version", () => {
    // As above until 125, where the update waits for g2 (started 115) to finish at 215, loads
    // until 220 → v2; g3 starts at 220, the learner trains g2 (v1, lag 1) until 230 and the
    // update waits for g3 until 320, loads until 325 → v3.
    const r = simulate({ ...TINY, partialRollouts: false });
    assert.equal(r.makespanS, 325);
    assert.deepEqual(r.stalenessHistogram, [1, 2]);
    assert.equal(r.mixedVersionTrajectories, 0);
    assert.equal(r.meanDrainS, 60);
    assert.ok(Math.abs(r.tokenLagMean - 200 / 300) < 1e-9, String(r.tokenLagMean));
  });

  void it("reports the percentile of a staleness histogram", () => {
    assert.equal(percentile([], 0.95), 0);
    assert.equal(percentile([100], 0.95), 0);
    assert.equal(percentile([94, 5, 1], 0.95), 1);
    assert.equal(percentile([95, 4, 1], 0.95), 0);
    assert.equal(percentile([0, 0, 3], 0.5), 2);
  });
});
