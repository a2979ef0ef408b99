import {
  EDITOR_COMMANDS,
  SWE_TOOL_SCHEMAS,
  canonicalToolName,
  type EditorCommand,
  type SweToolName,
  type SweToolParameterSchema,
} from "@sluice/common";

export interface BashCall {
  tool: "bash";
  command: string;
}

export interface EditorCall {
  tool: "str_replace_editor";
  command: EditorCommand;
  path: string;
  fileText?: string;
  oldStr?: string;
  newStr?: string;
  insertLine?: number;
  viewRange?: readonly [number, number];
}

export interface SubmitCall {
  tool: "submit";
}

export type ToolCall = BashCall | EditorCall | SubmitCall;

/**
 * A call the model got wrong before anything ran. `reason` is short, for the trajectory;
 * `message` is what the model sees, written so it can fix the call on its next turn.
 */
export interface InvalidToolCall {
  reason: string;
  message: string;
}

export type ParsedToolCall = { ok: true; call: ToolCall } | { ok: false; invalid: InvalidToolCall };

const TOOL_NAMES = SWE_TOOL_SCHEMAS.map((t) => t.function.name);

/**
 * Validates a tool call as the model produced it: a tool name (aliases accepted) and the raw
 * arguments JSON. Arguments not in the schema are ignored (other harnesses add some, e.g.
 * OpenHands' `security_risk`), and `null` counts as absent, since models often send it for
 * optional parameters. Types are checked strictly: guessing a coercion would hide mistakes
 * the trajectory should record.
 */
export function parseToolCall(name: string, argumentsJson: string): ParsedToolCall {
  const tool = canonicalToolName(name);
  if (tool === undefined) {
    return invalid(
      `unknown tool ${JSON.stringify(name)}`,
      `Unknown tool ${JSON.stringify(name)}. The available tools are: ${TOOL_NAMES.join(", ")}.`,
    );
  }
  const args = parseArguments(tool, argumentsJson);
  if (!args.ok) return args;
  switch (tool) {
    case "bash":
      return parseBash(args.value);
    case "str_replace_editor":
      return parseEditor(args.value);
    case "submit":
      return { ok: true, call: { tool: "submit" } };
  }
}

type Args = Readonly<Record<string, unknown>>;

function parseArguments(
  tool: SweToolName,
  argumentsJson: string,
): { ok: true; value: Args } | { ok: false; invalid: InvalidToolCall } {
  // An empty string is how several clients send "no arguments" (e.g. for submit).
  if (argumentsJson.trim() === "") return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(argumentsJson);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return invalid(
      "arguments are not valid JSON",
      `The arguments of the ${tool} call are not valid JSON (${why}). They were: ${quote(argumentsJson)}\n` +
        `Send the arguments as one JSON object. ${expected(tool)}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid(
      "arguments are not a JSON object",
      `The arguments of the ${tool} call must be a JSON object, got ${describeValue(value)}. ${expected(tool)}`,
    );
  }
  const present: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) present[k] = v;
  return { ok: true, value: present };
}

function parseBash(args: Args): ParsedToolCall {
  const command = args["command"];
  if (command === undefined) return missing("bash", "command");
  if (typeof command !== "string") return mistyped("bash", "command", "a string", command);
  return { ok: true, call: { tool: "bash", command } };
}

function parseEditor(args: Args): ParsedToolCall {
  const tool = "str_replace_editor";
  const command = args["command"];
  if (command === undefined) return missing(tool, "command");
  if (typeof command !== "string") return mistyped(tool, "command", "a string", command);
  if (!isEditorCommand(command)) {
    return invalid(
      `unknown str_replace_editor command ${JSON.stringify(command)}`,
      `Unrecognized command ${command}. The allowed commands for the str_replace_editor tool are: ` +
        EDITOR_COMMANDS.map((c) => `"${c}"`).join(", "),
    );
  }
  const path = args["path"];
  if (path === undefined) return missing(tool, "path");
  if (typeof path !== "string") return mistyped(tool, "path", "a string", path);
  const call: EditorCall = { tool, command, path };
  for (const [key, field] of [
    ["file_text", "fileText"],
    ["old_str", "oldStr"],
    ["new_str", "newStr"],
  ] as const) {
    const v = args[key];
    if (v === undefined) continue;
    if (typeof v !== "string") return mistyped(tool, key, "a string", v);
    call[field] = v;
  }
  const insertLine = args["insert_line"];
  if (insertLine !== undefined) {
    if (typeof insertLine !== "number" || !Number.isSafeInteger(insertLine))
      return mistyped(tool, "insert_line", "an integer", insertLine);
    call.insertLine = insertLine;
  }
  const viewRange = args["view_range"];
  if (viewRange !== undefined) {
    if (!Array.isArray(viewRange) || viewRange.length !== 2 || !viewRange.every((n) => Number.isSafeInteger(n))) {
      return invalid(
        "view_range is not a list of two integers",
        `Invalid \`view_range\`: ${quote(JSON.stringify(viewRange))}. It should be a list of two integers, e.g. [11, 12] or [11, -1]. ${expected(tool)}`,
      );
    }
    call.viewRange = [viewRange[0] as number, viewRange[1] as number];
  }
  // Per-command requirements, worded as SWE-agent words them.
  const needs: Partial<Record<EditorCommand, ReadonlyArray<keyof EditorCall & string>>> = {
    create: ["fileText"],
    str_replace: ["oldStr"],
    insert: ["insertLine", "newStr"],
  };
  for (const field of needs[command] ?? []) {
    if (call[field] === undefined) {
      const param = snake(field);
      return invalid(
        `missing argument ${param} for str_replace_editor ${command}`,
        `Parameter \`${param}\` is required for command: ${command}. ${expected(tool)}`,
      );
    }
  }
  return { ok: true, call };
}

function isEditorCommand(s: string): s is EditorCommand {
  return (EDITOR_COMMANDS as readonly string[]).includes(s);
}

function invalid(reason: string, message: string): { ok: false; invalid: InvalidToolCall } {
  return { ok: false, invalid: { reason, message } };
}

function missing(tool: SweToolName, arg: string): ParsedToolCall {
  return invalid(
    `missing argument ${arg} for ${tool}`,
    `Missing required argument \`${arg}\` for tool ${tool}. ${expected(tool)}`,
  );
}

function mistyped(tool: SweToolName, arg: string, want: string, got: unknown): ParsedToolCall {
  return invalid(
    `argument ${arg} of ${tool} is not ${want}`,
    `Argument \`${arg}\` of tool ${tool} must be ${want}, got ${describeValue(got)}. ${expected(tool)}`,
  );
}

/** A one-line signature built from the schema the model was shown, e.g. `bash(command: string)`. */
export function toolSignature(tool: SweToolName): string {
  const schema = SWE_TOOL_SCHEMAS.find((t) => t.function.name === tool);
  if (!schema) return tool;
  const { properties, required } = schema.function.parameters;
  const params = Object.entries(properties).map(
    ([name, p]) => `${name}${required.includes(name) ? "" : "?"}: ${typeText(p)}`,
  );
  return `${tool}(${params.join(", ")})`;
}

function typeText(p: SweToolParameterSchema): string {
  if (p.enum) return p.enum.map((e) => JSON.stringify(e)).join(" | ");
  if (p.type === "array" && p.minItems === 2 && p.maxItems === 2) return `[${p.items?.type}, ${p.items?.type}]`;
  if (p.type === "array") return `${p.items?.type ?? "unknown"}[]`;
  return p.type;
}

function expected(tool: SweToolName): string {
  return `Expected arguments: ${toolSignature(tool)}`;
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array (${quote(JSON.stringify(v))})`;
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `a string (${quote(JSON.stringify(v))})`;
  return `${typeof v === "number" && !Number.isInteger(v) ? "a non-integer number" : `a ${typeof v}`} (${String(v)})`;
}

/** Echoes model input back without letting a huge blob flood the observation. */
function quote(s: string, max = 200): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} characters)`;
}

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
