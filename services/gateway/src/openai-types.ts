/**
 * The subset of the OpenAI chat completions wire format the gateway speaks, plus the
 * Sluice token-in/token-out extension (CONTRIBUTING "Gateway token-in/token-out extension").
 */

export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A validated, normalised message: content is always a string ("" when absent). */
export interface ChatMessageIn {
  role: ChatRole;
  content: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  name?: string;
}

export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: unknown; strict?: boolean };
}

/** A validated chat completion request. */
export interface ChatCompletionParams {
  model: string;
  messages: ChatMessageIn[];
  tools?: ToolDefinition[];
  /** False when tool_choice is "none": tools are rendered but calls are not parsed. */
  parseToolCalls: boolean;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  logprobs: boolean;
  /** Partial rollouts: weight updates may interrupt the generation; it resumes under the new weights. */
  interruptible: boolean;
  sessionId?: string;
}

/** Extra request fields the gateway understands besides OpenAI's. */
export interface SluiceRequestExtension {
  sluice_session_id?: string;
  /** Default false: the generation runs to completion under the version it started with. */
  sluice_interruptible?: boolean;
}

export interface ToolCallError {
  /** The raw text inside the `<tool_call>` block. */
  raw: string;
  error: string;
}

/** Extra response object; arrays are packed little-endian and base64 encoded. */
export interface SluiceResponseExtension {
  session_id: string | null;
  policy_version: number;
  /**
   * Tokens added to the context before this turn's action: the whole prompt on a fresh
   * session, a request without a session, or a prefix mismatch; otherwise only the
   * newly rendered messages, so a session's turns concatenate to its exact token stream.
   */
  observation_token_ids_b64: string;
  action_token_ids_b64: string;
  action_logprobs_b64: string;
  action_policy_versions_b64: string;
  prefix_ok: boolean;
  /** Why the stored prefix could not be reused (only when prefix_ok is false). */
  prefix_mismatch_reason?: string;
  tool_call_errors: ToolCallError[];
}

export interface LogprobEntry {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: never[];
}

export interface ChatCompletionResponse {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string | null; tool_calls?: ToolCall[]; refusal: null };
    finish_reason: "stop" | "length" | "tool_calls";
    logprobs: { content: LogprobEntry[] } | null;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  sluice: SluiceResponseExtension;
}

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
