import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadTaskSet, parseTask, type SweTask } from "@sluice/common";
import { defaultCacheDir } from "../environments/cache-dir.js";
import { quietLogger, startTestBackend, type TestBackend } from "../internal.js";
import { Verifier } from "../verifier.js";
import { buildTaskSet } from "./main.js";
import { parseBuildOptions } from "./options.js";

// Builds a few real tasks from minimist (npm registry, bubblewrap sandboxes) and holds them to
// the rules the shipped set must meet.
void describe("tasks build (minimist, small cap)", { timeout: 900_000 }, () => {
  let out: string;
  let tasks: SweTask[];
  let lines: string[];
  let t: TestBackend;

  before(async () => {
    out = await mkdtemp(join(tmpdir(), "builder-int-"));
    t = await startTestBackend({ maxSandboxes: 8 });
    const options = parseBuildOptions([
      "--out",
      out,
      "--packages",
      "minimist",
      "--kinds",
      "synth",
      "--max-per-package",
      "3",
      "--max-candidates",
      "15",
      "--seed",
      "int-test",
      "--cache-dir",
      defaultCacheDir(),
    ]);
    const { failed } = await buildTaskSet(options, quietLogger());
    assert.equal(failed, false);
    lines = readFileSync(join(out, "minimist.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l !== "");
    const loaded = loadTaskSet([out]);
    assert.deepEqual(
      loaded.errors.map((e) => e.message),
      [],
    );
    tasks = loaded.tasks.map((l) => l.task);
  });

  after(async () => {
    await t?.cleanup();
    if (out) await rm(out, { recursive: true, force: true });
  });

  void test("writes tasks that parseTask accepts, in instance_id order", () => {
    assert.ok(tasks.length >= 1 && tasks.length <= 3, `${tasks.length} tasks`);
    lines.forEach((line, i) => parseTask(JSON.parse(line), { file: "minimist.jsonl", line: i + 1 }));
    const ids = tasks.map((x) => x.instance_id);
    assert.deepEqual(ids, [...ids].sort());
    assert.ok(existsSync(join(out, "README.md")));
    assert.ok(existsSync(join(out, "reports", "build-report.json")));
  });

  void test("every task meets the keep rules and the synthesized-bug conventions", () => {
    const failingSets = new Set<string>();
    for (const task of tasks) {
      const env = task.env;
      assert.ok(env, task.instance_id);
      assert.match(task.instance_id, /^minimist__1\.2\.8\.synth\.[0-9a-f]{8}$/);
      assert.equal(task.repo, "npm:minimist");
      assert.match(task.base_commit, /^[0-9a-f]{40}$/);
      assert.ok(task.FAIL_TO_PASS.length >= 1 && task.FAIL_TO_PASS.length <= 20);
      assert.ok(task.PASS_TO_PASS.length >= 10);
      assert.equal(task.FAIL_TO_PASS.filter((id) => task.PASS_TO_PASS.includes(id)).length, 0);
      assert.match(env.setup_patch, /^diff --git a\/index\.js b\/index\.js\n/);
      assert.match(task.patch, /^diff --git a\/index\.js b\/index\.js\n/);
      assert.equal(task.test_patch, "");
      const failingFiles = [...new Set(task.FAIL_TO_PASS.map((id) => id.split("::")[0]))].sort();
      assert.deepEqual(env.hidden_paths, failingFiles);
      for (const p of env.hidden_paths) assert.ok(env.test_files.includes(p));
      assert.ok(env.lockfile && existsSync(join(out, env.lockfile)), "lockfile shipped next to the tasks");
      assert.equal(env.dependencies["tape"] !== undefined, true);
      assert.doesNotMatch(task.problem_statement, /index\.js/, "never names the mutated file");
      assert.equal(task.environment_setup_commit.length > 0, true);
      const key = JSON.stringify(task.FAIL_TO_PASS);
      assert.ok(!failingSets.has(key), "no two tasks break the same tests");
      failingSets.add(key);
    }
  });

  void test("the gold patch resolves each task and the bugged base state fails its FAIL_TO_PASS tests", async () => {
    const verifier = new Verifier({
      backend: t.backend,
      cacheDir: defaultCacheDir(),
      logger: quietLogger(),
      taskDir: out,
    });
    for (const task of tasks) {
      const gold = await verifier.verify({ task, patch: task.patch, submitted: true, episodeId: "int-gold" });
      assert.equal(
        gold.level,
        "RESOLVED",
        `${task.instance_id}: ${gold.error} ${JSON.stringify(gold.report.tests_status)}`,
      );
      const empty = await verifier.verify({
        task,
        patch: "",
        submitted: true,
        episodeId: "int-empty",
        runTestsOnEmptyPatch: true,
      });
      // Read the raw statuses: an EMPTY_PATCH report carries no per-test lists.
      const statuses = empty.testRun?.statuses;
      assert.ok(statuses, `${task.instance_id}: the base state was graded`);
      const passing = task.FAIL_TO_PASS.filter((id) => statuses.get(id) === "PASSED");
      assert.deepEqual(passing, [], `${task.instance_id}: the bugged base state fails every FAIL_TO_PASS test`);
    }
  });
});
