/**
 * End to end: `sluice up` with guidance and a final evaluation (spec.evaluation), then
 * `sluice eval --candidates`: the actors sample the final policy N times on held-out tasks
 * after the last step, `sluice up` writes them to eval-samples.jsonl (pass@1, pass@N in
 * summary.json), and the test-time reward model trained on the run's guided data picks one
 * sample per task.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadExperimentManifest } from "@sluice/common";
import { orphans, runSluice } from "./run-sluice.js";

const EXAMPLE = "examples/toy-recall-guidance.yaml";
const TASKS = 4;
const N = 3;
const RUN_DEADLINE_MS = 6 * 60_000;
const EVAL_DEADLINE_MS = 4 * 60_000;

interface Sample {
  task_id: string;
  trajectory_id: string;
  group_id: string;
  passed: boolean;
  failure: string;
  policy_version: number;
  text: string;
}

const jsonl = <T>(path: string): T[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

test(
  "sluice up samples the final policy on held-out tasks; sluice eval picks among them with the RM",
  { timeout: RUN_DEADLINE_MS + EVAL_DEADLINE_MS },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-eval-e2e-"));
    const manifest = loadExperimentManifest(EXAMPLE);
    manifest.spec.rollout.groupSize = 4;
    manifest.spec.rollout.groupsPerStep = 2;
    manifest.spec.evaluation = { ...manifest.spec.evaluation, enabled: true, tasks: TASKS, samplesPerTask: N };
    const specPath = join(dir, "spec.json");
    writeFileSync(specPath, JSON.stringify(manifest));
    const runDir = join(dir, "run");

    const up = await runSluice(["up", "-f", specPath, "--run-dir", runDir, "--steps", "3"], RUN_DEADLINE_MS);
    assert.equal(up.code, 0, `sluice up failed:\n${up.output.slice(-6000)}`);
    assert.match(up.output, /final evaluation of v3: pass@1 [0-9.]+, pass@3 [0-9.]+ over 4 tasks/);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as {
      trajectories_published: number;
      trajectories_trained: number;
      episodes: { count: number };
      evaluation: {
        tasks: number;
        samples: number;
        expected_samples: number;
        policy_versions: number[];
        complete: boolean;
        pass_at_1: number;
        pass_at_n: number;
      };
    };
    assert.equal(summary.evaluation.complete, true);
    assert.equal(summary.evaluation.samples, TASKS * N);
    assert.deepEqual(summary.evaluation.policy_versions, [3], "every sample is of the final policy");
    assert.ok(summary.evaluation.pass_at_1 <= summary.evaluation.pass_at_n);
    assert.equal(
      summary.trajectories_published,
      summary.episodes.count,
      "evaluation samples are not training trajectories",
    );
    assert.equal(summary.trajectories_trained, summary.trajectories_published);

    const samples = jsonl<Sample>(join(runDir, "eval-samples.jsonl"));
    assert.equal(samples.length, TASKS * N);
    assert.deepEqual(
      [...new Set(samples.map((s) => s.group_id))].sort(),
      Array.from({ length: TASKS }, (_, k) => `e${k}`),
    );
    const trainedTasks = new Set(jsonl<Sample>(join(runDir, "guided-data.jsonl")).map((r) => r.task_id));
    assert.ok(trainedTasks.size > 0);
    for (const s of samples) {
      assert.equal(trainedTasks.has(s.task_id), false, `${s.task_id} was a training task`);
      assert.equal(s.failure, "");
      assert.ok(!s.text.includes("Feedback on your previous attempt"), "no guidance in an evaluation sample");
    }

    const evalRun = await runSluice(
      [
        "eval",
        "--data",
        join(runDir, "guided-data.jsonl"),
        "--candidates",
        join(runDir, "eval-samples.jsonl"),
        "--steps",
        "5",
        "--batch",
        "8",
        "--json",
      ],
      EVAL_DEADLINE_MS,
    );
    assert.equal(evalRun.code, 0, `sluice eval failed:\n${evalRun.output.slice(-4000)}`);
    const report = JSON.parse(evalRun.output.trim().split("\n").at(-1)!) as {
      testTasks: number;
      groups: number;
      trainExamples: number;
      passAt1Rm: number;
      passAt1Random: number;
      passAtNOracle: number;
    };
    assert.equal(report.testTasks, TASKS);
    assert.equal(report.groups, TASKS);
    assert.equal(report.trainExamples, summary.trajectories_trained);
    assert.ok(Math.abs(report.passAt1Random - summary.evaluation.pass_at_1) < 1e-9, "random-of-N is the run's pass@1");
    assert.ok(Math.abs(report.passAtNOracle - summary.evaluation.pass_at_n) < 1e-9);
    assert.ok(report.passAt1Rm <= report.passAtNOracle);

    assert.deepEqual(orphans(runDir), [], "still running after sluice up returned");
    rmSync(dir, { recursive: true, force: true });
  },
);
