import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { taskToJson } from "@sluice/common";
import { minimistBugTask } from "../testing/fixture-task.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.js");
const RUN_DEADLINE_MS = 300_000;

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_DEADLINE_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

void describe("sluice verify / sandbox run / tasks check (the sandbox CLI entry)", () => {
  let dir: string;
  let taskFile: string;
  let cacheDir: string;
  const task = minimistBugTask();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-cli-"));
    // The cache lives inside: sandboxes (another uid) must traverse to its dependencies.
    await chmod(dir, 0o755);
    cacheDir = join(dir, "cache");
    taskFile = join(dir, "task.jsonl");
    await writeFile(taskFile, taskToJson(task) + "\n");
    await writeFile(join(dir, "gold.diff"), task.patch);
    await writeFile(join(dir, "prediction.json"), JSON.stringify({ instance_id: task.instance_id, model_patch: "" }));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test("verify grades a patch and prints a SWE-bench-shaped report", async () => {
    const res = await run(["verify", "--task", taskFile, "--patch", join(dir, "gold.diff"), "--cache-dir", cacheDir]);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      outcome_level: string;
      resolved: boolean;
      report: Record<string, { resolved: boolean; tests_status: { FAIL_TO_PASS: { success: string[] } } }>;
    };
    assert.equal(out.outcome_level, "RESOLVED");
    assert.equal(out.report[task.instance_id]?.resolved, true);
    assert.deepEqual(out.report[task.instance_id]?.tests_status.FAIL_TO_PASS.success, ["test/num.js::nums"]);
    const empty = await run([
      "verify",
      "--task",
      taskFile,
      "--patch",
      join(dir, "prediction.json"),
      "--cache-dir",
      cacheDir,
    ]);
    assert.equal((JSON.parse(empty.stdout) as { outcome_level: string }).outcome_level, "EMPTY_PATCH");
  });

  void test("sandbox run prints the observation of one command in a fresh task sandbox", async () => {
    const res = await run([
      "sandbox",
      "run",
      "--task",
      taskFile,
      "--cache-dir",
      cacheDir,
      "--",
      "git log --oneline | wc -l; ls test | head -3; exit 3",
    ]);
    assert.equal(res.code, 3);
    assert.match(res.stdout, /^<returncode>3<\/returncode><output>1\nall_bool.js\nbool.js\ndash.js\n<\/output>/);
    const meta = JSON.parse(res.stderr.trim().split("\n").pop() ?? "{}") as { enforced: string[]; base_commit: string };
    assert.ok(meta.enforced.includes("net:none"));
    assert.match(meta.base_commit, /^[0-9a-f]{40}$/);
  });

  void test("bad input is a clear error with exit code 2", async () => {
    const missing = await run(["verify", "--task", taskFile]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--patch is required/);
    const broken = join(dir, "broken.jsonl");
    await writeFile(broken, taskToJson(task) + "\n" + JSON.stringify({ instance_id: "x", FAIL_TO_PASS: 3 }) + "\n");
    const check = await run(["tasks", "check", broken]);
    assert.equal(check.code, 1);
    assert.match(check.stderr, /broken.jsonl:2 \(instance_id x\)/);
    assert.deepEqual(JSON.parse(check.stdout), { tasks: 1, errors: 1 });
    const twoTasks = await run(["verify", "--task", join(dir, "two.jsonl"), "--patch", join(dir, "gold.diff")]);
    assert.equal(twoTasks.code, 2);
    assert.match(twoTasks.stderr, /two.jsonl/);
    const unknown = await run(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /usage:/);
  });
});
