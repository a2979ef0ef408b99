import { ValidationError, type Logger, type SweTask } from "@sluice/common";
import type { SandboxBackend, SandboxLimitsSpec } from "../backend.js";
import { materializeNpmEnv, type MaterializedEnv } from "./npm-env.js";
import { envSandboxOptions } from "./sandbox-mounts.js";
import { prepareTaskWorkspace, type TaskWorkspace } from "./task-workspace.js";

export interface TaskSandboxOptions {
  cacheDir: string;
  /** Relative env.lockfile paths resolve against this (the task file's directory). */
  taskDir?: string;
  logger: Logger;
  episodeId: string;
  limits?: Partial<SandboxLimitsSpec>;
  signal?: AbortSignal;
}

export interface TaskSandbox {
  sandboxId: string;
  workspacePath: string;
  enforced: readonly string[];
  baseCommit: string;
  envHash: string;
  workspace: TaskWorkspace;
  menv: MaterializedEnv;
}

/** Builds (or reuses) the task's environment and workspace and opens a sandbox on a copy. */
export async function createTaskSandbox(
  backend: SandboxBackend,
  task: SweTask,
  options: TaskSandboxOptions,
): Promise<TaskSandbox> {
  if (!task.env)
    throw new ValidationError(`task ${task.instance_id} has no env block: Sluice cannot build its environment`);
  const signal = options.signal ? { signal: options.signal } : {};
  const menv = await materializeNpmEnv(task.env, {
    cacheDir: options.cacheDir,
    logger: options.logger,
    ...(options.taskDir ? { taskDir: options.taskDir } : {}),
    ...signal,
  });
  const workspace = await prepareTaskWorkspace(task, menv, { cacheDir: options.cacheDir, ...signal });
  const info = await backend.create({
    workspaceSource: workspace.dir,
    episodeId: options.episodeId,
    env: {},
    ...(options.limits ? { limits: options.limits } : {}),
    ...envSandboxOptions(menv),
  });
  return {
    sandboxId: info.sandboxId,
    workspacePath: info.workspacePath,
    enforced: info.enforced,
    baseCommit: workspace.baseCommit,
    envHash: menv.hash,
    workspace,
    menv,
  };
}
