import type { contracts } from "@sluice/common";
import type { ChatMessageIn, ToolCall, ToolDefinition } from "./openai-types.js";

/** OpenAI-shaped messages -> the engine's ChatMessage (tool calls as JSON text). */
export function toEngineMessages(messages: readonly ChatMessageIn[]): contracts.ChatMessage[] {
  return messages.map((m) => ({
    role: m.role,
    content: m.content,
    toolCallsJson: m.toolCalls && m.toolCalls.length > 0 ? JSON.stringify(m.toolCalls) : "",
    toolCallId: m.toolCallId ?? "",
    name: m.name ?? "",
  }));
}

export function toolsJson(tools: readonly ToolDefinition[] | undefined): string {
  return tools && tools.length > 0 ? JSON.stringify(tools) : "";
}

/** The assistant message as the gateway returns it, kept in the session for the prefix check. */
export function assistantMessage(content: string | null, toolCalls: ToolCall[]): ChatMessageIn {
  const msg: ChatMessageIn = { role: "assistant", content: content ?? "" };
  if (toolCalls.length > 0) msg.toolCalls = toolCalls;
  return msg;
}
