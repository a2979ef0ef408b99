import type { ChatMessageIn, ToolCall } from "./openai-types.js";
import type { Session } from "./session-store.js";

export type PrefixCheck = { ok: true; newMessages: ChatMessageIn[] } | { ok: false; reason: string };

/**
 * Decides whether a request continues a session: its messages must start with the
 * stored ones (the assistant turns exactly as generated) and only add non-assistant
 * messages. The engine's continuation renders what follows the last assistant message,
 * so an assistant message the gateway did not generate cannot reuse the stored ids.
 */
export function checkSessionPrefix(
  session: Session,
  messages: readonly ChatMessageIn[],
  toolsJson: string,
): PrefixCheck {
  if (toolsJson !== session.toolsJson) return { ok: false, reason: "tools differ from the session's tools" };
  const stored = session.messages;
  if (messages.length <= stored.length) {
    return { ok: false, reason: `request has ${messages.length} messages, session already holds ${stored.length}` };
  }
  for (let i = 0; i < stored.length; i++) {
    const diff = messageDiff(stored[i] as ChatMessageIn, messages[i] as ChatMessageIn);
    if (diff !== undefined) return { ok: false, reason: `messages[${i}] differs from the session: ${diff}` };
  }
  const newMessages = messages.slice(stored.length);
  const injected = newMessages.findIndex((m) => m.role === "assistant");
  if (injected >= 0) {
    return {
      ok: false,
      reason: `messages[${stored.length + injected}] is an assistant message the gateway did not generate`,
    };
  }
  return { ok: true, newMessages };
}

/** Undefined when equal; otherwise which part differs. */
export function messageDiff(a: ChatMessageIn, b: ChatMessageIn): string | undefined {
  if (a.role !== b.role) return `role ${a.role} vs ${b.role}`;
  // Clients commonly strip surrounding whitespace; the stored tokens still stand for it.
  if (a.content.trim() !== b.content.trim()) return "content";
  if ((a.toolCallId ?? "") !== (b.toolCallId ?? "")) return "tool_call_id";
  if ((a.name ?? "") !== (b.name ?? "") && a.role !== "assistant") return "name";
  const ca = a.toolCalls ?? [];
  const cb = b.toolCalls ?? [];
  if (ca.length !== cb.length) return `tool_calls count ${ca.length} vs ${cb.length}`;
  for (let i = 0; i < ca.length; i++) {
    if (!sameToolCall(ca[i] as ToolCall, cb[i] as ToolCall)) return `tool_calls[${i}]`;
  }
  return undefined;
}

function sameToolCall(a: ToolCall, b: ToolCall): boolean {
  // Ids are not part of the sampled tokens (Hermes blocks carry none), so they may differ.
  if (a.function.name !== b.function.name) return false;
  if (a.function.arguments === b.function.arguments) return true;
  // Clients may re-serialise arguments (key order aside, whitespace differs).
  try {
    return jsonEqual(JSON.parse(a.function.arguments), JSON.parse(b.function.arguments));
  } catch {
    return false;
  }
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  return ka.every(
    (k) => Object.prototype.hasOwnProperty.call(rb, k) && jsonEqual((a as Record<string, unknown>)[k], rb[k]),
  );
}
