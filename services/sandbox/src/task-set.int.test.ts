import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadTaskSet, REPO_ROOT, type SweTask } from "@sluice/common";
import { defaultCacheDir } from "./environments/cache-dir.js";
import { createTaskSandbox } from "./environments/task-sandbox.js";
import { quietLogger, startTestBackend, type TestBackend } from "./internal.js";
import { Verifier } from "./verifier.js";

const TASKS_DIR = join(REPO_ROOT, "tasks");
const CONCURRENCY = 2;

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

// The shipped training set, graded end to end: every environment is rebuilt from npm (cached
// by content hash), every gold patch must resolve its task and the untouched base state must
// fail every FAIL_TO_PASS test.
void describe("the shipped task set (tasks/)", () => {
  let t: TestBackend;
  let verifier: Verifier;
  let tasks: SweTask[];
  const cacheDir = defaultCacheDir();

  before(async () => {
    t = await startTestBackend({ maxSandboxes: 8 });
    verifier = new Verifier({ backend: t.backend, cacheDir, logger: quietLogger(), taskDir: TASKS_DIR });
    const loaded = loadTaskSet([TASKS_DIR]);
    assert.deepEqual(
      loaded.errors.map((e) => e.message),
      [],
      "every shipped task loads",
    );
    tasks = loaded.tasks.map((l) => l.task);
  });
  after(async () => {
    await t.cleanup();
  });

  void test("has at least 60 tasks from at least 3 packages", () => {
    assert.ok(tasks.length >= 60, `${tasks.length} tasks`);
    assert.ok(new Set(tasks.map((x) => x.env?.package)).size >= 3);
    for (const task of tasks) {
      assert.ok(task.FAIL_TO_PASS.length >= 1 && task.FAIL_TO_PASS.length <= 20, task.instance_id);
      assert.ok(task.PASS_TO_PASS.length >= 10, task.instance_id);
    }
  });

  void test("rebuilt workspaces match each task's base_commit and environment hash", async () => {
    await eachLimited(tasks, CONCURRENCY, async (task) => {
      const sb = await createTaskSandbox(t.backend, task, {
        cacheDir,
        taskDir: TASKS_DIR,
        logger: quietLogger(),
        episodeId: "check",
      });
      await t.backend.destroy(sb.sandboxId);
      assert.equal(sb.baseCommit, task.base_commit, `${task.instance_id} base_commit`);
      assert.equal(sb.envHash, task.environment_setup_commit, `${task.instance_id} environment_setup_commit`);
    });
  });

  void test("the gold patch resolves every task and the empty patch resolves none", async () => {
    const failures: string[] = [];
    await eachLimited(tasks, CONCURRENCY, async (task) => {
      const gold = await verifier.verify({ task, patch: task.patch, submitted: true, episodeId: "gold" });
      if (gold.level !== "RESOLVED") {
        failures.push(
          `${task.instance_id}: gold → ${gold.level} ${gold.error} ${JSON.stringify(gold.report.tests_status)}`,
        );
      }
      const empty = await verifier.verify({
        task,
        patch: "",
        submitted: true,
        episodeId: "empty",
        runTestsOnEmptyPatch: true,
      });
      if (empty.resolved || empty.infrastructureError) failures.push(`${task.instance_id}: empty patch resolved`);
      const stillFailing = empty.report.tests_status.FAIL_TO_PASS.failure;
      if (stillFailing.length !== task.FAIL_TO_PASS.length) {
        failures.push(
          `${task.instance_id}: base state passes ${task.FAIL_TO_PASS.length - stillFailing.length} FAIL_TO_PASS tests`,
        );
      }
    });
    assert.deepEqual(failures, []);
  });
});
