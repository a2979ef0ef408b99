import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quietLogger, startTestBackend, type TestBackend } from "./internal.js";
import { minimistBugTask } from "./testing/fixture-task.js";
import { Verifier } from "./verifier.js";

void describe("verifier (real npm environment, real bubblewrap)", () => {
  let t: TestBackend;
  let cacheDir: string;
  let verifier: Verifier;
  const task = minimistBugTask();
  const verify = (patch: string, submitted = true) => verifier.verify({ task, patch, submitted, episodeId: "test" });

  before(async () => {
    t = await startTestBackend();
    cacheDir = await mkdtemp(join(tmpdir(), "sluice-verify-cache-"));
    verifier = new Verifier({ backend: t.backend, cacheDir, logger: quietLogger() });
  });
  after(async () => {
    await t.cleanup();
    await rm(cacheDir, { recursive: true, force: true });
  });

  void test("the gold patch resolves the task with a SWE-bench-shaped report", async () => {
    const res = await verify(task.patch);
    assert.equal(res.infrastructureError, false, res.error);
    assert.equal(res.level, "RESOLVED");
    assert.equal(res.resolved, true);
    assert.equal(res.applyMethod, "git apply");
    assert.equal(res.report.patch_successfully_applied, true);
    assert.deepEqual(res.report.tests_status.FAIL_TO_PASS, { success: ["test/num.js::nums"], failure: [] });
    assert.equal(res.report.tests_status.PASS_TO_PASS.failure.length, 0);
    assert.equal(res.report.tests_status.PASS_TO_PASS.success.length, task.PASS_TO_PASS.length);
    assert.equal(t.backend.liveCount(), 0, "the grading sandbox is destroyed");
  });

  void test("not submitting, an empty patch and a patch that does not apply get their own levels", async () => {
    assert.equal((await verify(task.patch, false)).level, "NO_SUBMIT");
    assert.equal((await verify("  \n")).level, "EMPTY_PATCH");
    // The line it removes does not exist anywhere: no method (not even patch --fuzz) applies it.
    const broken = task.patch.replace(
      "-\tif ((/^0x[0-9a-f]+$/i).test(x)) { return false; }",
      "-\tif (neverThere(x)) { return false; }",
    );
    assert.notEqual(broken, task.patch);
    const res = await verify(broken);
    assert.equal(res.level, "PATCH_APPLY_FAILED");
    assert.equal(res.report.patch_successfully_applied, false);
    assert.equal(res.infrastructureError, false);
  });

  void test("a patch that applies but does not fix the bug fails its FAIL_TO_PASS test", async () => {
    const res = await verify(
      "diff --git a/NOTES.md b/NOTES.md\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES.md\n@@ -0,0 +1 @@\n+note\n",
    );
    assert.equal(res.level, "TESTS_FAIL", res.error);
    assert.deepEqual(res.report.tests_status.FAIL_TO_PASS.failure, ["test/num.js::nums"]);
  });

  void test("editing the hidden test does not help: hidden paths are restored before grading", async () => {
    // The agent cannot see test/num.js; creating its own version must not count.
    const fake =
      "diff --git a/test/num.js b/test/num.js\nnew file mode 100644\n--- /dev/null\n+++ b/test/num.js\n@@ -0,0 +1,3 @@\n+var test = require('tape');\n+test('nums', function (t) { t.ok(true); t.end(); });\n+test('already a number', function (t) { t.ok(true); t.end(); });\n";
    const res = await verify(fake);
    assert.equal(res.level, "TESTS_FAIL");
  });

  void test("spoofed TAP output from the patched code is caught by the exit-code cross-check", async () => {
    // Prints a passing TAP stream for every file and exits 1: what a cheating patch could do.
    const spoof =
      "diff --git a/index.js b/index.js\n--- a/index.js\n+++ b/index.js\n@@ -1,3 +1,4 @@\n" +
      "+process.on('exit', function () { console.log('TAP version 13\\n# nums\\nok 1 x\\n\\n1..1\\n# tests 1\\n# pass  1\\n\\n# ok'); process.exitCode = 1; });\n" +
      " 'use strict';\n \n function hasKey(obj, keys) {\n";
    const res = await verify(spoof);
    assert.notEqual(res.level, "RESOLVED");
    assert.ok(res.report.grading_problems.length > 0, "the inconsistency is reported");
  });

  void test("an environment that cannot be built is an infrastructure error, not a failed patch", async () => {
    const bad = minimistBugTask();
    bad.env!.version = "0.0.0-does-not-exist";
    const res = await verifier.verify({ task: bad, patch: bad.patch, submitted: true, episodeId: "test" });
    assert.equal(res.infrastructureError, true);
    assert.equal(res.level, "UNSPECIFIED");
    assert.equal(res.resolved, false);
    assert.match(res.error, /npm/);
  });
});
