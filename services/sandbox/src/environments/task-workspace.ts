import { createHash, randomUUID } from "node:crypto";
import { cp, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, normalize, isAbsolute } from "node:path";
import { ValidationError, type SweTask } from "@sluice/common";
import { ensureCacheSubdir } from "./cache-dir.js";
import { exists } from "./fs-exists.js";
import { DETERMINISTIC_GIT_ENV, PATCH_EXCLUDES } from "./git.js";
import { EnvironmentBuildError, runHostCommand } from "./host-command.js";
import type { MaterializedEnv } from "./npm-env.js";

/** A task's repository at its base state, ready to be copied into a sandbox. */
export interface TaskWorkspace {
  /** Repository root: the source with setup_patch applied, hidden paths removed, one commit. */
  dir: string;
  /** The hidden paths as they are at the base state, to restore before grading. */
  hiddenDir: string;
  baseCommit: string;
}

const GIT_TIMEOUT_MS = 60_000;
const REPO = "repo";
const HIDDEN = "hidden";

/**
 * Prepares (once per task and environment, cached) the workspace an agent starts from: the
 * published source, the task's setup_patch (for a synthesized bug: the bug), hidden paths
 * moved aside, and a git repository with exactly one parentless commit, so no history leaks
 * the answer and the agent's patch is `git diff` against that commit.
 */
export async function prepareTaskWorkspace(
  task: SweTask,
  menv: MaterializedEnv,
  options: { cacheDir: string; signal?: AbortSignal },
): Promise<TaskWorkspace> {
  const env = task.env;
  if (!env) throw new ValidationError(`task ${task.instance_id} has no env block: cannot build its workspace`);
  const hidden = env.hidden_paths.map((p) => checkRelative(p, task.instance_id));
  const key = createHash("sha256")
    .update(JSON.stringify([menv.hash, env.setup_patch, hidden]))
    .digest("hex")
    .slice(0, 32);
  const dir = join(options.cacheDir, "workspaces", key);
  const result = (baseCommit: string): TaskWorkspace => ({
    dir: join(dir, REPO),
    hiddenDir: join(dir, HIDDEN),
    baseCommit,
  });
  const marker = join(dir, "base_commit");
  try {
    return result((await readFile(marker, "utf8")).trim());
  } catch {
    // Not built yet.
  }
  await ensureCacheSubdir(options.cacheDir, "workspaces");
  const tmp = join(dirname(dir), `.tmp-${key}-${randomUUID().slice(0, 8)}`);
  const signal = options.signal ? { signal: options.signal } : {};
  const git = (args: string[], stdin?: string) =>
    runHostCommand("git", args, {
      cwd: join(tmp, REPO),
      timeoutMs: GIT_TIMEOUT_MS,
      env: DETERMINISTIC_GIT_ENV,
      ...(stdin === undefined ? {} : { stdin }),
      ...signal,
    });
  try {
    await mkdir(join(tmp, HIDDEN), { recursive: true });
    await cp(menv.sourceDir, join(tmp, REPO), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    if (env.setup_patch.trim()) {
      try {
        await git(["apply", "--whitespace=nowarn", "-"], env.setup_patch);
      } catch (cause) {
        throw new EnvironmentBuildError(
          `task ${task.instance_id}: env.setup_patch does not apply to ${env.package}@${env.version}`,
          { instanceId: task.instance_id },
          cause,
        );
      }
    }
    for (const p of hidden) {
      const from = join(tmp, REPO, p);
      if (!(await exists(from))) {
        throw new ValidationError(`task ${task.instance_id}: env.hidden_paths entry ${p} does not exist in the source`);
      }
      await mkdir(dirname(join(tmp, HIDDEN, p)), { recursive: true });
      await rename(from, join(tmp, HIDDEN, p));
    }
    await git(["-c", "init.defaultBranch=main", "init", "--quiet", "--template="]);
    await mkdir(join(tmp, REPO, ".git", "info"), { recursive: true });
    await writeFile(join(tmp, REPO, ".git", "info", "exclude"), PATCH_EXCLUDES.join("\n") + "\n");
    await git(["add", "-A", "--force", "."]);
    await git(["-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", "base"]);
    const baseCommit = (await git(["rev-parse", "HEAD"])).stdout.trim();
    await runHostCommand("chmod", ["-R", "a+rX", tmp], { timeoutMs: GIT_TIMEOUT_MS, ...signal });
    await writeFile(join(tmp, "base_commit"), baseCommit + "\n");
    await mkdir(dirname(dir), { recursive: true });
    try {
      await rename(tmp, dir);
    } catch (err) {
      if (!(await exists(marker))) throw err;
      await rm(tmp, { recursive: true, force: true });
    }
    return result(baseCommit);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

function checkRelative(path: string, instanceId: string): string {
  const n = normalize(path);
  if (isAbsolute(n) || n === "." || n.startsWith("..") || n.startsWith(".git")) {
    throw new ValidationError(
      `task ${instanceId}: env.hidden_paths entry ${JSON.stringify(path)} must be a path inside the repository`,
    );
  }
  return n.replace(/\/$/, "");
}
