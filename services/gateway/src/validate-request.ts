import { InvalidRequestError } from "./errors.js";
import type { ChatCompletionParams, ChatMessageIn, ChatRole, ToolCall, ToolDefinition } from "./openai-types.js";

export interface ValidationDefaults {
  maxTokens: number;
  /** Upper bound on max_tokens; larger requests are rejected rather than silently cut. */
  maxTokensLimit: number;
}

export const DEFAULT_VALIDATION: ValidationDefaults = { maxTokens: 1024, maxTokensLimit: 32_768 };

const ROLES: ReadonlySet<string> = new Set(["system", "developer", "user", "assistant", "tool"]);
const MAX_SESSION_ID_LENGTH = 256;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(param: string, message: string, code = "invalid_value"): never {
  throw new InvalidRequestError(param, `${param}: ${message}`, code);
}

/** Validates a parsed JSON body into typed params; every failure names its field. */
export function validateChatRequest(
  body: unknown,
  defaults: ValidationDefaults = DEFAULT_VALIDATION,
): ChatCompletionParams {
  if (!isObject(body)) throw new InvalidRequestError(null, "request body must be a JSON object", "invalid_type");
  if (body.stream === true) fail("stream", "streaming not supported yet", "unsupported_value");
  if (typeof body.model !== "string" || body.model.length === 0)
    fail("model", "must be a non-empty string", "missing_required_parameter");

  const messages = validateMessages(body.messages);
  const tools = validateTools(body.tools);
  const parseToolCalls = validateToolChoice(body.tool_choice);
  const maxTokens = validateMaxTokens(body, defaults);
  const temperature = optionalNumber(body, "temperature", 0, 2, 1);
  const topP = optionalNumber(body, "top_p", 0, 1, 1);
  if (topP === 0) fail("top_p", "must be greater than 0");
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    // One sample per request keeps a session a single token stream.
    fail("n", "only n = 1 is supported", "unsupported_value");
  }
  if (body.stop !== undefined && body.stop !== null && !(Array.isArray(body.stop) && body.stop.length === 0)) {
    // Truncating at stop strings would make the returned text disagree with the exact
    // sampled token ids the gateway records, so the model stops at its EOS tokens only.
    fail(
      "stop",
      "stop sequences are not supported; generation ends at the model's end-of-turn tokens",
      "unsupported_value",
    );
  }
  let seed = 0;
  if (body.seed !== undefined && body.seed !== null) {
    if (!Number.isSafeInteger(body.seed)) fail("seed", "must be an integer");
    seed = body.seed as number;
  }
  let logprobs = false;
  if (body.logprobs !== undefined && body.logprobs !== null) {
    if (typeof body.logprobs !== "boolean") fail("logprobs", "must be a boolean");
    logprobs = body.logprobs;
  }
  if (body.top_logprobs !== undefined && body.top_logprobs !== null && body.top_logprobs !== 0) {
    fail("top_logprobs", "only the sampled token's logprob is available; top_logprobs must be 0", "unsupported_value");
  }
  let interruptible = false;
  if (body.sluice_interruptible !== undefined && body.sluice_interruptible !== null) {
    if (typeof body.sluice_interruptible !== "boolean") fail("sluice_interruptible", "must be a boolean");
    interruptible = body.sluice_interruptible;
  }
  let sessionId: string | undefined;
  if (body.sluice_session_id !== undefined && body.sluice_session_id !== null) {
    const s = body.sluice_session_id;
    if (typeof s !== "string" || s.length === 0 || s.length > MAX_SESSION_ID_LENGTH) {
      fail("sluice_session_id", `must be a non-empty string of at most ${MAX_SESSION_ID_LENGTH} characters`);
    }
    sessionId = s;
  }
  const params: ChatCompletionParams = {
    model: body.model,
    messages,
    parseToolCalls: parseToolCalls && tools !== undefined,
    maxTokens,
    temperature,
    topP,
    seed,
    logprobs,
    interruptible,
  };
  if (tools !== undefined) params.tools = tools;
  if (sessionId !== undefined) params.sessionId = sessionId;
  return params;
}

function validateMaxTokens(body: Json, defaults: ValidationDefaults): number {
  // max_completion_tokens is the newer name; it wins when both are present.
  for (const key of ["max_completion_tokens", "max_tokens"] as const) {
    const v = body[key];
    if (v === undefined || v === null) continue;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) fail(key, "must be a positive integer");
    if ((v as number) > defaults.maxTokensLimit) fail(key, `must be at most ${defaults.maxTokensLimit}`);
    return v as number;
  }
  return defaults.maxTokens;
}

function optionalNumber(body: Json, key: string, min: number, max: number, dflt: number): number {
  const v = body[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v)) fail(key, "must be a number");
  if (v < min || v > max) fail(key, `must be between ${min} and ${max}`);
  return v;
}

function validateMessages(raw: unknown): ChatMessageIn[] {
  if (raw === undefined || raw === null) fail("messages", "is required", "missing_required_parameter");
  if (!Array.isArray(raw)) fail("messages", "must be an array");
  if (raw.length === 0) fail("messages", "must contain at least one message");
  return raw.map((m, i) => validateMessage(m, `messages[${i}]`));
}

function validateMessage(raw: unknown, path: string): ChatMessageIn {
  if (!isObject(raw)) fail(path, "must be an object");
  const role = raw.role;
  if (typeof role !== "string" || !ROLES.has(role)) {
    fail(`${path}.role`, `must be one of system, developer, user, assistant, tool (got ${JSON.stringify(role)})`);
  }
  // Chat templates know "system"; "developer" is OpenAI's newer name for it.
  const normalisedRole: ChatRole = role === "developer" ? "system" : (role as ChatRole);
  const content = validateContent(raw.content, `${path}.content`);
  const msg: ChatMessageIn = { role: normalisedRole, content: content ?? "" };
  if (normalisedRole === "assistant") {
    if (raw.tool_calls !== undefined && raw.tool_calls !== null) {
      msg.toolCalls = validateToolCalls(raw.tool_calls, `${path}.tool_calls`);
    }
    if (content === null && (msg.toolCalls === undefined || msg.toolCalls.length === 0)) {
      fail(`${path}.content`, "is required unless tool_calls is set", "missing_required_parameter");
    }
  } else {
    if (raw.tool_calls !== undefined && raw.tool_calls !== null)
      fail(`${path}.tool_calls`, "is only allowed on assistant messages");
    if (content === null) fail(`${path}.content`, "is required", "missing_required_parameter");
  }
  if (normalisedRole === "tool") {
    if (typeof raw.tool_call_id !== "string" || raw.tool_call_id.length === 0) {
      fail(`${path}.tool_call_id`, "is required for tool messages", "missing_required_parameter");
    }
    msg.toolCallId = raw.tool_call_id;
  }
  if (raw.name !== undefined && raw.name !== null) {
    if (typeof raw.name !== "string") fail(`${path}.name`, "must be a string");
    msg.name = raw.name;
  }
  return msg;
}

/** Returns the text, or null when absent. Array content must be text parts only. */
function validateContent(raw: unknown, path: string): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === "string") return raw;
  if (!Array.isArray(raw)) fail(path, "must be a string or an array of text parts");
  return raw
    .map((part, i) => {
      if (!isObject(part) || part.type !== "text" || typeof part.text !== "string") {
        fail(`${path}[${i}]`, 'only text parts ({type: "text", text}) are supported', "unsupported_value");
      }
      return part.text;
    })
    .join("");
}

function validateToolCalls(raw: unknown, path: string): ToolCall[] {
  if (!Array.isArray(raw)) fail(path, "must be an array");
  return raw.map((c, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(c)) fail(p, "must be an object");
    if (typeof c.id !== "string" || c.id.length === 0) fail(`${p}.id`, "must be a non-empty string");
    if (c.type !== undefined && c.type !== "function") fail(`${p}.type`, 'must be "function"');
    const fn = c.function;
    if (!isObject(fn)) fail(`${p}.function`, "must be an object", "missing_required_parameter");
    if (typeof fn.name !== "string" || fn.name.length === 0) fail(`${p}.function.name`, "must be a non-empty string");
    // OpenAI sends arguments as a JSON string; accept an object too and serialise it.
    let args: string;
    if (typeof fn.arguments === "string") args = fn.arguments;
    else if (isObject(fn.arguments)) args = JSON.stringify(fn.arguments);
    else fail(`${p}.function.arguments`, "must be a JSON string");
    return { id: c.id, type: "function", function: { name: fn.name, arguments: args } };
  });
}

function validateTools(raw: unknown): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) fail("tools", "must be an array");
  if (raw.length === 0) return undefined;
  return raw.map((t, i) => {
    const p = `tools[${i}]`;
    if (!isObject(t)) fail(p, "must be an object");
    if (t.type !== "function") fail(`${p}.type`, 'must be "function"');
    const fn = t.function;
    if (!isObject(fn)) fail(`${p}.function`, "must be an object", "missing_required_parameter");
    if (typeof fn.name !== "string" || fn.name.length === 0) fail(`${p}.function.name`, "must be a non-empty string");
    if (fn.description !== undefined && typeof fn.description !== "string")
      fail(`${p}.function.description`, "must be a string");
    if (fn.parameters !== undefined && !isObject(fn.parameters))
      fail(`${p}.function.parameters`, "must be a JSON schema object");
    return t as unknown as ToolDefinition;
  });
}

/** Returns whether generated tool calls should be parsed. */
function validateToolChoice(raw: unknown): boolean {
  if (raw === undefined || raw === null || raw === "auto") return true;
  if (raw === "none") return false;
  // Forcing a call needs constrained decoding, which the engine does not do.
  fail("tool_choice", 'only "auto" and "none" are supported', "unsupported_value");
}
