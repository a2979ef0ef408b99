/**
 * End to end: `sluice up` on the toy example with a fixed seed, every component a real
 * process (nats-server with JetStream, the PyTorch engine, each TS service).
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
  final_policy_version: number;
  wall_seconds: number;
}

const RUN_DEADLINE_MS = 15 * 60_000;

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
  "sluice up trains the toy policy: reward rises, versions advance, every trajectory trained once",
  { timeout: RUN_DEADLINE_MS + 60_000 },
  async () => {
    const runDir = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
    const { code, output } = await runSluice(["up", "-f", "examples/toy.yaml", "--run-dir", runDir]);
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
    const pidsFile = join(runDir, "pids.json");
    if (existsSync(pidsFile)) {
      const pids = JSON.parse(readFileSync(pidsFile, "utf8")) as Record<string, number>;
      for (const [name, pid] of Object.entries(pids)) assert.ok(!alive(pid), `${name} (pid ${pid}) still running`);
    }
  },
);
