/**
 * End to end: `sluice up` on the SWE example for one step. The tiny random model does not
 * solve anything; what is checked is that every part runs and reports: task sandboxes,
 * tool calls, done reasons, verification, rewards by outcome level, one learner step.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "@sluice/common";

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

function runSluice(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "services/cli/dist/main.js"), ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGINT"), RUN_DEADLINE_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  "sluice up runs SWE episodes end to end: every episode ends with a done reason and an outcome level",
  { timeout: RUN_DEADLINE_MS + 60_000 },
  async () => {
    const runDir = mkdtempSync(join(tmpdir(), "sluice-swe-e2e-"));
    const { code, output } = await runSluice(["up", "-f", SPEC, "--steps", "1", "--run-dir", runDir]);
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

    const pidsFile = join(runDir, "pids.json");
    if (existsSync(pidsFile)) {
      const pids = JSON.parse(readFileSync(pidsFile, "utf8")) as Record<string, number>;
      for (const [name, pid] of Object.entries(pids)) assert.ok(!alive(pid), `${name} (pid ${pid}) still running`);
    }
  },
);
