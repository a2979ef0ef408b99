import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describeTaskLocation, TaskFormatError, type TaskLocation } from "./task-error.js";
import { parseTask, type SweTask } from "./task-schema.js";

/** A task and where it was read from (`line` for JSONL, `index` for a JSON array element). */
export interface LoadedTask {
  task: SweTask;
  file: string;
  line?: number;
  index?: number;
}

/** Every load problem is a TaskFormatError: file, line/index, instance_id, field, message. */
export type TaskLoadError = TaskFormatError;

export interface TaskLoadResult {
  tasks: LoadedTask[];
  errors: TaskLoadError[];
}

const TASK_FILE = /\.jsonl?$/;

/**
 * Parses task text: one JSON object, a JSON array of objects, or JSONL (one object per line).
 * `label` names the source in errors. A bad element or line is an error; the rest still parse.
 */
export function parseTaskText(text: string, label: string, format: "auto" | "jsonl" = "auto"): TaskLoadResult {
  const body = text.replace(/^\uFEFF/, "");
  if (format === "auto") {
    const whole = tryJson(body);
    if (whole.ok) return fromDocument(whole.value, label);
    // Not one document: JSONL when its first line is a JSON value on its own (a broken
    // pretty-printed file would otherwise turn into an error per line).
    const first = body.split("\n").find((l) => l.trim() !== "");
    if (first === undefined || !tryJson(first).ok) {
      return fail({ file: label }, "(file)", `invalid JSON: ${whole.error}`);
    }
  }
  return fromJsonl(body, label);
}

/** Loads one file: `.jsonl` is read line by line, anything else as a JSON document (or JSONL). */
export function loadTaskFile(path: string): TaskLoadResult {
  return dedupe([readTaskFile(path)]);
}

/**
 * Loads files and directories (every `.json`/`.jsonl` directly inside, sorted, not recursive).
 * A duplicate instance_id anywhere in the set is an error for the later occurrence.
 */
export function loadTaskSet(paths: readonly string[]): TaskLoadResult {
  const results: TaskLoadResult[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      results.push(fail({ file: path }, "(file)", `cannot read: ${(err as Error).message}`));
      continue;
    }
    if (!isDir) {
      results.push(readTaskFile(path));
      continue;
    }
    const files = readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isFile() && TASK_FILE.test(e.name))
      .map((e) => e.name)
      .sort();
    if (files.length === 0) results.push(fail({ file: path }, "(file)", "directory holds no .json or .jsonl files"));
    for (const name of files) results.push(readTaskFile(join(path, name)));
  }
  return dedupe(results);
}

function readTaskFile(path: string): TaskLoadResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    return fail({ file: path }, "(file)", `cannot read: ${(err as Error).message}`);
  }
  return parseTaskText(text, path, path.endsWith(".jsonl") ? "jsonl" : "auto");
}

function fromDocument(doc: unknown, file: string): TaskLoadResult {
  if (!Array.isArray(doc)) return collect([{ raw: doc, where: { file } }]);
  return collect(doc.map((raw: unknown, index) => ({ raw, where: { file, index } })));
}

function fromJsonl(text: string, file: string): TaskLoadResult {
  const result: TaskLoadResult = { tasks: [], errors: [] };
  const lines = text.split("\n");
  lines.forEach((content, i) => {
    if (content.trim() === "") return;
    const where = { file, line: i + 1 };
    const parsed = tryJson(content);
    if (!parsed.ok) {
      result.errors.push(new TaskFormatError(where, [{ field: "(line)", message: `invalid JSON: ${parsed.error}` }]));
      return;
    }
    const one = collect([{ raw: parsed.value, where }]);
    result.tasks.push(...one.tasks);
    result.errors.push(...one.errors);
  });
  return result;
}

function collect(items: readonly { raw: unknown; where: TaskLocation }[]): TaskLoadResult {
  const result: TaskLoadResult = { tasks: [], errors: [] };
  for (const { raw, where } of items) {
    try {
      result.tasks.push({ task: parseTask(raw, where), ...where });
    } catch (err) {
      if (!(err instanceof TaskFormatError)) throw err;
      result.errors.push(err);
    }
  }
  return result;
}

function dedupe(results: readonly TaskLoadResult[]): TaskLoadResult {
  const out: TaskLoadResult = { tasks: [], errors: results.flatMap((r) => r.errors) };
  const seen = new Map<string, LoadedTask>();
  for (const loaded of results.flatMap((r) => r.tasks)) {
    const id = loaded.task.instance_id;
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, loaded);
      out.tasks.push(loaded);
      continue;
    }
    const { file, line, index } = loaded;
    out.errors.push(
      new TaskFormatError({ file, line, index, instanceId: id }, [
        { field: "instance_id", message: `duplicate instance_id, first defined at ${describeTaskLocation(first)}` },
      ]),
    );
  }
  return out;
}

function fail(where: TaskLocation, field: string, message: string): TaskLoadResult {
  return { tasks: [], errors: [new TaskFormatError(where, [{ field, message }])] };
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
