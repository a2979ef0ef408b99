// Turns a validated candidate into a task record: builds its workspace exactly as an episode
// would (so base_commit is the sha an agent's repository will have), checks that the gold
// patch and test patch apply there, and validates the record with the shared schema.
import { parseTask, type NpmTaskEnv, type SweTask } from "@sluice/common";
import { DETERMINISTIC_GIT_ENV } from "../environments/git.js";
import { EnvironmentBuildError, runHostCommand } from "../environments/host-command.js";
import type { MaterializedEnv } from "../environments/npm-env.js";
import { prepareTaskWorkspace } from "../environments/task-workspace.js";

export interface TaskDraft {
  instanceId: string;
  repo: string;
  patch: string;
  testPatch: string;
  problemStatement: string;
  createdAt: string;
  version: string;
  failToPass: string[];
  passToPass: string[];
  env: NpmTaskEnv;
  /** Builder provenance (kind of task, mutation operator); kept as extra keys. */
  extra: Record<string, unknown>;
}

const GIT_CHECK_TIMEOUT_MS = 60_000;

export function npmRepo(pkg: string): string {
  return `npm:${pkg}`;
}

function raw(draft: TaskDraft, baseCommit: string, envHash: string): Record<string, unknown> {
  return {
    instance_id: draft.instanceId,
    repo: draft.repo,
    base_commit: baseCommit,
    patch: draft.patch,
    test_patch: draft.testPatch,
    problem_statement: draft.problemStatement,
    hints_text: "",
    created_at: draft.createdAt,
    version: draft.version,
    FAIL_TO_PASS: draft.failToPass,
    PASS_TO_PASS: draft.passToPass,
    environment_setup_commit: envHash,
    env: draft.env,
    ...draft.extra,
  };
}

export async function finalizeTask(
  draft: TaskDraft,
  menv: MaterializedEnv,
  options: { cacheDir: string; signal?: AbortSignal },
): Promise<SweTask> {
  const where = { file: "<tasks build>", instanceId: draft.instanceId };
  const provisional = parseTask(raw(draft, "", menv.hash), where);
  const ws = await prepareTaskWorkspace(provisional, menv, options);
  // The agent's repository lacks hidden paths; the gold patch never touches them, and the
  // test patch applies after they are restored, so check each against the matching tree.
  for (const [name, patch] of [
    ["patch", draft.patch],
    ["test_patch", draft.testPatch],
  ] as const) {
    if (patch.trim() === "") continue;
    try {
      await runHostCommand("git", ["apply", "--check", "-"], {
        cwd: ws.dir,
        stdin: patch,
        timeoutMs: GIT_CHECK_TIMEOUT_MS,
        env: DETERMINISTIC_GIT_ENV,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (cause) {
      throw new EnvironmentBuildError(
        `${draft.instanceId}: ${name} does not apply to the task workspace`,
        { instanceId: draft.instanceId },
        cause,
      );
    }
  }
  return parseTask(raw(draft, ws.baseCommit, menv.hash), where);
}
