import type { SweTask } from "@sluice/common";

// Kept short: with a char-level tokenizer every character is a token of the context.
export const SWE_SYSTEM_PROMPT =
  "You are a software engineer fixing an issue in a repository. Work only through the tools. " +
  "Call submit when your fix is complete.";

/** The first user message; its first line names the task (the oracle test policy reads it). */
export function firstUserMessage(task: SweTask): string {
  return [
    `Task ${task.instance_id}`,
    "The repository is checked out at /workspace. Resolve this issue:",
    "<issue>",
    task.problem_statement.trim(),
    "</issue>",
    "Use bash to explore and run code (each call starts a fresh shell in /workspace) and " +
      "str_replace_editor to view and edit files (absolute paths). Hidden tests will check your change. " +
      "When you are done, call submit.",
  ].join("\n");
}

/** Reads the instance_id back out of a first user message written by `firstUserMessage`. */
export function instanceIdFromPrompt(text: string): string | undefined {
  return /^Task (\S+)/.exec(text)?.[1];
}

export const NO_TOOL_CALL_MESSAGE =
  "No tool call found. Respond with a tool call: bash, str_replace_editor, or submit when you are done.";

export function unparsedToolCallMessage(errors: readonly string[]): string {
  return [
    `${errors.length === 1 ? "A tool call" : `${errors.length} tool calls`} could not be parsed:`,
    ...errors.map((e) => `- ${e}`),
    "Tool calls need a tool name (bash, str_replace_editor, submit) and JSON object arguments.",
  ].join("\n");
}

export const NOT_RUN_AFTER_SUBMIT = "Not run: the episode ended with submit.";
export const NOT_RUN_WALL_TIME = "Not run: the episode's time limit was reached.";
