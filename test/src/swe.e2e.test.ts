/**
 * End to end: `sluice up` on the SWE example for one step. The tiny random model does not
 * solve anything; what is checked is that every part runs and reports: task sandboxes,
 * tool calls, done reasons, verification, rewards by outcome level, one learner step.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { orphans, runSluice } from "./run-sluice.js";

interface Summary {
  exit: string;
  steps: number;
  reward_mean_by_step: number[];
  trajectories_published: number;
  trajectories_trained: number;
  trajectories_dropped: Record<string, number>;
  episodes?: {
    count: number;
    done_reasons: Record<string, number>;
    outcome_levels: Record<string, number>;
    failures: Record<string, number>;
  };
}

// Cold: engine start plus building each task's npm environment on first use.
const RUN_DEADLINE_MS = 4 * 60_000;
const SPEC = process.env["SLUICE_SWE_E2E_SPEC"] ?? "examples/swe.yaml";
const DONE_REASONS = new Set(["submitted", "max_turns", "wall_time", "context_limit", "format_errors"]);

test(
  "sluice up runs SWE episodes end to end: every episode ends with a done reason and an outcome level",
  { timeout: RUN_DEADLINE_MS + 60_000 },
  async () => {
    const runDir = mkdtempSync(join(tmpdir(), "sluice-swe-e2e-"));
    const { code, output } = await runSluice(["up", "-f", SPEC, "--steps", "1", "--run-dir", runDir], RUN_DEADLINE_MS);
    assert.equal(code, 0, `sluice up failed:\n${output.slice(-4000)}`);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Summary;

    assert.equal(summary.exit, "completed");
    assert.equal(summary.steps, 1);
    assert.equal(summary.reward_mean_by_step.length, 1);
    // groupsPerStep 2 × groupSize 2.
    assert.ok(summary.trajectories_published >= 4, `published ${summary.trajectories_published}`);

    const episodes = summary.episodes;
    assert.ok(episodes, "summary.json has episode stats");
    assert.equal(episodes.count, summary.trajectories_published);
    // Sandbox and verifier work as designed: no infrastructure failures.
    assert.deepEqual(episodes.failures, { NONE: episodes.count }, JSON.stringify(episodes));
    for (const reason of Object.keys(episodes.done_reasons)) {
      assert.ok(DONE_REASONS.has(reason), `unexpected done reason ${reason}: ${JSON.stringify(episodes)}`);
    }
    const levels = Object.values(episodes.outcome_levels).reduce((a, b) => a + b, 0);
    assert.equal(levels, episodes.count);
    assert.ok(!("UNSPECIFIED" in episodes.outcome_levels), JSON.stringify(episodes));

    assert.deepEqual(orphans(runDir), [], "still running after sluice up returned");
  },
);
