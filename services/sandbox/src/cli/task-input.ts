import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseTaskText, ValidationError, type SweTask } from "@sluice/common";

/**
 * Reads one task for the CLI: a task file (JSON object, JSON array, JSONL) or a single JSONL
 * line. With several tasks in the file, `instance` picks one. Returns the directory relative
 * lockfile paths resolve against.
 */
export function readOneTask(file: string, instance: string | undefined): { task: SweTask; taskDir: string } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ValidationError(`--task ${file}: ${(err as Error).message}`);
  }
  const { tasks, errors } = parseTaskText(text, file);
  const picked = instance ? tasks.filter((t) => t.task.instance_id === instance) : tasks;
  if (picked.length === 1) return { task: (picked[0] as (typeof tasks)[number]).task, taskDir: dirname(path) };
  if (picked.length === 0) {
    if (errors[0]) throw errors[0];
    throw new ValidationError(
      instance ? `--task ${file}: no task with instance_id ${instance}` : `--task ${file}: no task in the file`,
    );
  }
  throw new ValidationError(
    `--task ${file} holds ${picked.length} tasks; pick one with --instance (e.g. ${picked[0]?.task.instance_id})`,
  );
}

/** A patch from a file, "-" for stdin, or a SWE-bench prediction JSON (`model_patch`). */
export function readPatch(file: string): string {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new ValidationError(`--patch ${file}: ${(err as Error).message}`);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      const pred = JSON.parse(text) as { model_patch?: unknown; patch?: unknown };
      const p = pred.model_patch ?? pred.patch;
      if (typeof p === "string") return p;
    } catch {
      // Not JSON after all: treat as a diff.
    }
    throw new ValidationError(`--patch ${file}: a JSON patch file needs a string "model_patch" (SWE-bench prediction)`);
  }
  return text;
}
