import { ValidationError, type SluiceErrorOptions } from "../errors.js";

/** Where a task came from: `line` (1-based) for JSONL, `index` (0-based) for a JSON array element. */
export interface TaskLocation {
  file: string;
  line?: number;
  index?: number;
}

/** One problem: `field` is a path like `env.timeouts.test_ms` or `FAIL_TO_PASS[3]`, `(root)`, `(file)`. */
export interface TaskIssue {
  field: string;
  message: string;
}

/**
 * A task (or a task file) that cannot be used. Names the file, the line or array index, the
 * instance_id when the raw task had one, and every field at fault, so a dataset author can fix
 * it without guessing.
 */
export class TaskFormatError extends ValidationError {
  readonly file: string;
  readonly line: number | undefined;
  readonly index: number | undefined;
  readonly instanceId: string | undefined;
  /** The first issue's field path; all of them are in `issues`. */
  readonly field: string;
  readonly detail: string;
  readonly issues: readonly TaskIssue[];

  constructor(
    where: TaskLocation & { instanceId?: string | undefined },
    issues: readonly TaskIssue[],
    options: SluiceErrorOptions = {},
  ) {
    const first = issues[0] ?? { field: "(root)", message: "invalid task" };
    super(`${describeTaskLocation(where)}: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`, {
      ...options,
      context: { ...options.context, file: where.file, line: where.line, index: where.index },
    });
    this.name = "TaskFormatError";
    this.file = where.file;
    this.line = where.line;
    this.index = where.index;
    this.instanceId = where.instanceId;
    this.field = first.field;
    this.detail = first.message;
    this.issues = issues.length > 0 ? issues : [first];
  }
}

/** `tasks.jsonl:7 (instance_id foo__bar-1)`, `set.json[2]`. */
export function describeTaskLocation(where: TaskLocation & { instanceId?: string | undefined }): string {
  let out = where.file;
  if (where.line !== undefined) out += `:${where.line}`;
  if (where.index !== undefined) out += `[${where.index}]`;
  if (where.instanceId !== undefined) out += ` (instance_id ${where.instanceId})`;
  return out;
}
