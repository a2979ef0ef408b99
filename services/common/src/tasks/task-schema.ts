import { z } from "zod";
import type { ZodError } from "zod";
import { TaskFormatError, type TaskIssue, type TaskLocation } from "./task-error.js";

/**
 * A SWE task: a superset of a SWE-bench instance (docs/swe-environments.md). SWE-bench and
 * SWE-smith files load unchanged; unknown top-level keys are kept in `extra` so a task can be
 * re-emitted without losing what other tools put there.
 */

// Exact versions only: the environment's content hash is meant to name one build.
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** A path inside the workspace: relative, no `..`, so hiding/restoring can never escape it. */
const workspacePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), {
    message: "must be a workspace-relative path without '..'",
  });

const exactVersion = z.string().regex(EXACT_VERSION, { message: "must be an exact version (e.g. 1.2.3)" });

const npmTimeouts = z
  .object({
    install_ms: z.number().int().positive().default(300_000),
    test_ms: z.number().int().positive().default(60_000).describe("per test file"),
  })
  .strict();

export const npmTaskEnvSchema = z
  .object({
    kind: z.literal("npm"),
    package: z.string().min(1),
    version: exactVersion,
    integrity: z
      .string()
      .regex(/^sha(?:1|256|384|512)-[A-Za-z0-9+/=]+$/, { message: "must be an SRI hash (dist.integrity)" }),
    dependencies: z.record(z.string().min(1), exactVersion).default({}),
    lockfile: workspacePath.optional().describe("relative to the task file's directory"),
    install_steps: z.array(z.string()).default([]).describe("informational: what the builder did"),
    setup_patch: z.string().default("").describe("turns the published source into the base state"),
    test_command: z.array(z.string().min(1)).min(1).describe("argv; one test file is appended per run"),
    test_files: z.array(workspacePath).min(1),
    result_parser: z.enum(["tap", "junit"]).default("tap"),
    timeouts: npmTimeouts.prefault({}),
    hidden_paths: z.array(workspacePath).default([]),
  })
  .strict();

// A discriminated union so a new `kind` is one more member and an unknown kind names the field.
export const taskEnvSchema = z.discriminatedUnion("kind", [npmTaskEnvSchema]);

export type NpmTaskEnv = z.output<typeof npmTaskEnvSchema>;
export type TaskEnv = z.output<typeof taskEnvSchema>;

/** HF datasets store test lists as JSON-encoded strings; SWE-agent and SWE-smith as arrays. */
function decodeTestList(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    const decoded: unknown = JSON.parse(value);
    return Array.isArray(decoded) ? decoded : value;
  } catch {
    return value;
  }
}

const testList = z.preprocess(
  decodeTestList,
  z.array(z.string(), { error: "expected an array of test ids or a JSON-encoded array of them" }),
);

// SWE-smith files lack these; HF rows sometimes hold null.
const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? "");

const taskShape = {
  instance_id: z.string().min(1),
  repo: z.string(),
  base_commit: z.string(),
  patch: z.string(),
  test_patch: optionalText,
  problem_statement: z.string(),
  hints_text: optionalText,
  created_at: z.string(),
  version: optionalText,
  FAIL_TO_PASS: testList,
  PASS_TO_PASS: testList,
  environment_setup_commit: optionalText,
  image_name: z.string().optional(),
  env: taskEnvSchema.optional(),
};

/** Keys in the order a task is written back; everything else lives in `extra`. */
export const STANDARD_TASK_KEYS = Object.keys(taskShape) as readonly (keyof typeof taskShape)[];

const taskSchema = z.object(taskShape);

export type SweTask = z.output<typeof taskSchema> & { extra: Record<string, unknown> };

/** Validates one raw task; a problem throws a TaskFormatError naming the task and field. */
export function parseTask(raw: unknown, where: TaskLocation): SweTask {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    const got = raw === null ? "null" : Array.isArray(raw) ? "an array" : typeof raw;
    throw new TaskFormatError(where, [{ field: "(root)", message: `expected a JSON object, got ${got}` }]);
  }
  const record = raw as Record<string, unknown>;
  const instanceId = typeof record.instance_id === "string" && record.instance_id ? record.instance_id : undefined;
  const result = taskSchema.safeParse(record);
  if (!result.success) throw new TaskFormatError({ ...where, instanceId }, toIssues(result.error));
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!(key in taskShape)) extra[key] = value;
  }
  return { ...result.data, extra };
}

/** Re-emits a task (standard keys, image_name, env, then extra) so parseTask round-trips it. */
export function taskToJson(task: SweTask): string {
  const out: Record<string, unknown> = {};
  for (const key of STANDARD_TASK_KEYS) {
    if (task[key] !== undefined) out[key] = task[key];
  }
  for (const [key, value] of Object.entries(task.extra)) {
    if (!(key in out) && !(key in taskShape)) out[key] = value;
  }
  return JSON.stringify(out);
}

/** `env.timeouts.test_ms`, `FAIL_TO_PASS[3]`; an unknown key is named in the path. */
function toIssues(error: ZodError): TaskIssue[] {
  return error.issues.map((issue) => {
    const path = [...issue.path];
    if (issue.code === "unrecognized_keys" && issue.keys.length === 1 && issue.keys[0] !== undefined) {
      return { field: formatPath([...path, issue.keys[0]]), message: "unknown field" };
    }
    if (issue.code === "unrecognized_keys") {
      return { field: formatPath(path), message: `unknown field(s) ${issue.keys.join(", ")}` };
    }
    return { field: formatPath(path), message: issue.message };
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(root)" : out;
}
