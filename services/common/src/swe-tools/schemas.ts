/**
 * The tools a SWE agent is shown, as OpenAI function-calling schemas. The names, argument
 * shapes and wording follow SWE-agent's `edit_anthropic` bundle and OpenHands' editor (the
 * de-facto standard models are trained on), adapted to Sluice's sandbox: the workspace is
 * /workspace, and every bash call starts a fresh shell there (only files persist).
 */

/** The subset of JSON Schema these tools use. */
export interface SweToolParameterSchema {
  readonly type: "string" | "integer" | "array" | "object";
  readonly description: string;
  readonly enum?: readonly string[];
  readonly items?: { readonly type: "integer" };
  readonly minItems?: number;
  readonly maxItems?: number;
}

export interface SweToolParameters {
  readonly type: "object";
  readonly properties: Readonly<Record<string, SweToolParameterSchema>>;
  readonly required: readonly string[];
}

/** One entry of the OpenAI `tools` array. */
export interface SweToolSchema {
  readonly type: "function";
  readonly function: {
    readonly name: SweToolName;
    readonly description: string;
    readonly parameters: SweToolParameters;
  };
}

export type SweToolName = "bash" | "str_replace_editor" | "submit";

export const EDITOR_COMMANDS = ["view", "create", "str_replace", "insert", "undo_edit"] as const;
export type EditorCommand = (typeof EDITOR_COMMANDS)[number];

/** Names other harnesses use for the same tools (OpenHands), accepted on input. */
export const SWE_TOOL_ALIASES: Readonly<Record<string, SweToolName>> = {
  execute_bash: "bash",
  file_editor: "str_replace_editor",
  finish: "submit",
};

const BASH_DESCRIPTION = [
  "Runs the given command directly in bash (`/bin/bash -c`) in /workspace.",
  "* Each call starts a fresh shell: the working directory, environment variables and background processes do not carry over between calls; files under /workspace do.",
  "* There is no network access and no user input: interactive commands will hang until the timeout.",
  "* stdout and stderr are combined in the order they were written; long output is shortened in the middle.",
  "* A command that runs longer than the timeout is killed.",
].join("\n");

const EDITOR_DESCRIPTION = [
  "Custom editing tool for viewing, creating and editing files",
  "* State is persistent across command calls and discussions with the user",
  "* If `path` is a file, `view` displays the result of applying `cat -n`. If `path` is a directory, `view` lists non-hidden files and directories up to 2 levels deep",
  "* The `create` command cannot be used if the specified `path` already exists as a file",
  "* If a `command` generates a long output, it will be truncated and marked with `<response clipped>`",
  "* The `undo_edit` command will revert the last edit made to the file at `path`",
  "",
  "Notes for using the `str_replace` command:",
  "* The `old_str` parameter should match EXACTLY one or more consecutive lines from the original file. Be mindful of whitespaces!",
  "* If the `old_str` parameter is not unique in the file, the replacement will not be performed. Make sure to include enough context in `old_str` to make it unique",
  "* The `new_str` parameter should contain the edited lines that should replace the `old_str`",
].join("\n");

export const SWE_TOOL_SCHEMAS: readonly SweToolSchema[] = [
  {
    type: "function",
    function: {
      name: "bash",
      description: BASH_DESCRIPTION,
      parameters: {
        type: "object",
        properties: {
          command: { type: "string", description: "The bash command to execute." },
        },
        required: ["command"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "str_replace_editor",
      description: EDITOR_DESCRIPTION,
      parameters: {
        type: "object",
        properties: {
          command: {
            type: "string",
            description:
              "The commands to run. Allowed options are: `view`, `create`, `str_replace`, `insert`, `undo_edit`.",
            enum: EDITOR_COMMANDS,
          },
          path: {
            type: "string",
            description: "Absolute path to file or directory, e.g. `/workspace/file.py` or `/workspace`.",
          },
          file_text: {
            type: "string",
            description: "Required parameter of `create` command, with the content of the file to be created.",
          },
          old_str: {
            type: "string",
            description: "Required parameter of `str_replace` command containing the string in `path` to replace.",
          },
          new_str: {
            type: "string",
            description:
              "Optional parameter of `str_replace` command containing the new string (if not given, no string will be added). Required parameter of `insert` command containing the string to insert.",
          },
          insert_line: {
            type: "integer",
            description:
              "Required parameter of `insert` command. The `new_str` will be inserted AFTER the line `insert_line` of `path`.",
          },
          view_range: {
            type: "array",
            items: { type: "integer" },
            minItems: 2,
            maxItems: 2,
            description:
              "Optional parameter of `view` command when `path` points to a file. If none is given, the full file is shown. If provided, the file will be shown in the indicated line number range, e.g. [11, 12] will show lines 11 and 12. Indexing at 1 to start. Setting `[start_line, -1]` shows all lines from `start_line` to the end of the file.",
          },
        },
        required: ["command", "path"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "submit",
      description:
        "Submits your current changes to the files in /workspace as your solution and ends the session. Call it once you are done.",
      parameters: { type: "object", properties: {}, required: [] },
    },
  },
];

/** The canonical tool a (possibly aliased) name refers to; undefined when it is no SWE tool. */
export function canonicalToolName(name: string): SweToolName | undefined {
  if (name === "bash" || name === "str_replace_editor" || name === "submit") return name;
  return Object.hasOwn(SWE_TOOL_ALIASES, name) ? SWE_TOOL_ALIASES[name] : undefined;
}
