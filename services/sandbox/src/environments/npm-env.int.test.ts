import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quietLogger } from "../internal.js";
import { minimistBugTask } from "../testing/fixture-task.js";
import { EnvironmentBuildError, runHostCommand } from "./host-command.js";
import { materializeNpmEnv } from "./npm-env.js";
import { prepareTaskWorkspace } from "./task-workspace.js";

void describe("npm environments and task workspaces (real npm registry)", () => {
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "sluice-env-cache-"));
  });
  after(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  void test("builds the published source and only the test dependencies, then reuses the cache", async () => {
    const env = minimistBugTask().env!;
    const first = await materializeNpmEnv(env, { cacheDir, logger: quietLogger() });
    assert.match(await readFile(join(first.sourceDir, "index.js"), "utf8"), /function isNumber/);
    const tape = JSON.parse(await readFile(join(first.nodeModulesDir, "tape", "package.json"), "utf8")) as {
      version: string;
    };
    assert.equal(tape.version, "5.10.2");
    const started = performance.now();
    const again = await materializeNpmEnv(env, { cacheDir, logger: quietLogger() });
    assert.deepEqual(again, first);
    assert.ok(performance.now() - started < 1000, "a cached environment is not rebuilt");
  });

  void test("concurrent requests for one environment build it once", async () => {
    const env = { ...minimistBugTask().env!, dependencies: {} };
    const [a, b] = await Promise.all([
      materializeNpmEnv(env, { cacheDir, logger: quietLogger() }),
      materializeNpmEnv(env, { cacheDir, logger: quietLogger() }),
    ]);
    assert.equal(a.dir, b.dir);
    // Not a dependency of anything installed: `require("minimist")` reaches the agent's copy.
    assert.equal(await readlink(join(a.nodeModulesDir, "minimist")), "/workspace");
    assert.deepEqual(
      (await readdir(join(cacheDir, "envs"))).filter((n) => n.startsWith(".tmp-")),
      [],
      "no half-built directories are left",
    );
  });

  void test("a tarball whose integrity does not match is refused and leaves nothing behind", async () => {
    const env = { ...minimistBugTask().env!, integrity: "sha512-AAAA", dependencies: {} };
    await assert.rejects(materializeNpmEnv(env, { cacheDir, logger: quietLogger() }), (err: unknown) => {
      assert.ok(err instanceof EnvironmentBuildError);
      assert.match(err.message, /integrity .* does not match env.integrity sha512-AAAA/);
      return true;
    });
    assert.deepEqual(
      (await readdir(join(cacheDir, "envs"))).filter((n) => n.startsWith(".tmp-")),
      [],
    );
  });

  void test("a missing lockfile is an error naming the path", async () => {
    const env = { ...minimistBugTask().env!, lockfile: "envs/missing.package-lock.json" };
    await assert.rejects(
      materializeNpmEnv(env, { cacheDir, taskDir: "/nonexistent", logger: quietLogger() }),
      /env.lockfile envs\/missing.package-lock.json not found/,
    );
  });

  void test("the workspace is one deterministic parentless commit with the bug in and the hidden tests out", async () => {
    const task = minimistBugTask();
    const menv = await materializeNpmEnv(task.env!, { cacheDir, logger: quietLogger() });
    const ws = await prepareTaskWorkspace(task, menv, { cacheDir });
    const git = async (...args: string[]) =>
      (
        await runHostCommand("git", ["-c", "safe.directory=*", ...args], { cwd: ws.dir, timeoutMs: 10_000 })
      ).stdout.trim();
    assert.equal(await git("rev-list", "--count", "HEAD"), "1");
    assert.equal(await git("rev-list", "--max-parents=0", "HEAD"), ws.baseCommit);
    assert.equal(await git("status", "--porcelain"), "", "the base state is fully committed");
    assert.match(await readFile(join(ws.dir, "index.js"), "utf8"), /return false; }/);
    await assert.rejects(lstat(join(ws.dir, "test", "num.js")), "hidden test is not in the workspace");
    assert.match(await readFile(join(ws.hiddenDir, "test", "num.js"), "utf8"), /tape/);
    // A second cache rebuilds the same commit: base_commit identifies the base state.
    const otherCache = await mkdtemp(join(tmpdir(), "sluice-env-cache-"));
    try {
      const menv2 = await materializeNpmEnv(task.env!, { cacheDir: otherCache, logger: quietLogger() });
      const ws2 = await prepareTaskWorkspace(task, menv2, { cacheDir: otherCache });
      assert.equal(ws2.baseCommit, ws.baseCommit);
    } finally {
      await rm(otherCache, { recursive: true, force: true });
    }
  });

  void test("a setup_patch that does not apply names the task", async () => {
    const task = minimistBugTask();
    task.env!.setup_patch = task.env!.setup_patch.replace("isNumber(x) {", "isNumberz(x) {");
    const menv = await materializeNpmEnv(task.env!, { cacheDir, logger: quietLogger() });
    await assert.rejects(
      prepareTaskWorkspace(task, menv, { cacheDir }),
      /minimist__1.2.8.test-hex: env.setup_patch does not apply/,
    );
  });
});
