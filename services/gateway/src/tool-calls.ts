import { randomBytes } from "node:crypto";
import type { ToolCall, ToolCallError } from "./openai-types.js";

export interface ParsedToolCalls {
  /** Text outside well-formed blocks (malformed blocks stay in it verbatim), trimmed. */
  content: string;
  toolCalls: ToolCall[];
  errors: ToolCallError[];
}

const OPEN = "<tool_call>";
const CLOSE = "</tool_call>";

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString("hex")}`;
}

/**
 * Extracts Hermes / Qwen style `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`
 * blocks from generated text. Never throws: a block that does not parse is left in the
 * content and reported, so the agent (and the trajectory) still see what the model wrote.
 */
export function parseToolCalls(text: string, makeId: () => string = newToolCallId): ParsedToolCalls {
  const toolCalls: ToolCall[] = [];
  const errors: ToolCallError[] = [];
  let content = "";
  let pos = 0;
  for (;;) {
    const start = text.indexOf(OPEN, pos);
    if (start < 0) {
      content += text.slice(pos);
      break;
    }
    content += text.slice(pos, start);
    const bodyStart = start + OPEN.length;
    const end = text.indexOf(CLOSE, bodyStart);
    if (end < 0) {
      // Usually a completion cut by max_tokens inside the block.
      const raw = text.slice(bodyStart);
      errors.push({ raw, error: "unterminated <tool_call> block" });
      content += text.slice(start);
      break;
    }
    const raw = text.slice(bodyStart, end);
    const parsed = parseBlock(raw);
    if ("error" in parsed) {
      errors.push({ raw, error: parsed.error });
      content += text.slice(start, end + CLOSE.length);
    } else {
      toolCalls.push({ id: makeId(), type: "function", function: parsed });
    }
    pos = end + CLOSE.length;
  }
  return { content: content.trim(), toolCalls, errors };
}

function parseBlock(raw: string): { name: string; arguments: string } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { error: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "expected a JSON object" };
  const obj = value as Record<string, unknown>;
  if (typeof obj.name !== "string" || obj.name.length === 0) return { error: 'missing string field "name"' };
  const args = obj.arguments ?? obj.parameters ?? {};
  if (typeof args === "string") {
    // Some models emit arguments already serialised; keep them only if they are JSON.
    try {
      JSON.parse(args);
    } catch {
      return { error: '"arguments" is a string that is not valid JSON' };
    }
    return { name: obj.name, arguments: args };
  }
  if (typeof args !== "object" || args === null || Array.isArray(args))
    return { error: '"arguments" must be a JSON object' };
  return { name: obj.name, arguments: JSON.stringify(args) };
}
