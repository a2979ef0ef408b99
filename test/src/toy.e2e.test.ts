/**
 * End to end: `sluice up` on the toy example with a fixed seed, every component a real
 * process (nats-server with JetStream, the PyTorch engine, each TS service).
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
  final_policy_version: number;
  wall_seconds: number;
}

const RUN_DEADLINE_MS = 15 * 60_000;

test(
  "sluice up trains the toy policy: reward rises, versions advance, every trajectory trained once",
  { timeout: RUN_DEADLINE_MS + 60_000 },
  async () => {
    const runDir = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
    const { code, output } = await runSluice(["up", "-f", "examples/toy.yaml", "--run-dir", runDir], RUN_DEADLINE_MS);
    assert.equal(code, 0, `sluice up failed:\n${output.slice(-4000)}`);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Summary;

    assert.equal(summary.exit, "completed");
    assert.equal(summary.reward_mean_by_step.length, summary.steps);
    // One optimizer step per learner step, each publishing the next version.
    assert.equal(summary.final_policy_version, summary.steps);

    // Exactly once: every published trajectory is trained or dropped with a reason.
    const dropped = Object.values(summary.trajectories_dropped).reduce((a, b) => a + b, 0);
    assert.ok(summary.trajectories_published > 0);
    assert.equal(summary.trajectories_trained, summary.trajectories_published - dropped);

    // Learning: from near chance to mostly correct.
    const r = summary.reward_mean_by_step;
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(r.slice(0, 3)) <= 0.3, `first steps already high: ${r.slice(0, 3).join(", ")}`);
    // Within the run's step budget, some 3-step window averages at least 0.8.
    const windows = r.slice(2).map((_, i) => mean(r.slice(i, i + 3)));
    assert.ok(Math.max(...windows) >= 0.8, `reward did not reach 0.8: ${r.map((x) => x.toFixed(2)).join(" ")}`);

    // No orphans: every process the run started is gone.
    assert.deepEqual(orphans(runDir), [], "still running after sluice up returned");
  },
);
