/**
 * The OpenAI chat-completions message shapes the actor sends to the gateway, in wire
 * form (snake_case), so environments produce messages that go out unchanged.
 */
export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: ChatRole;
  content: string | null;
  tool_calls?: WireToolCall[];
  tool_call_id?: string;
  name?: string;
}

/** A tool the environment offers the policy (OpenAI `tools` entry). */
export interface ToolSchema {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** A tool call the gateway could not parse; the raw text is kept for the environment. */
export interface InvalidToolCall {
  raw: string;
  error: string;
}
