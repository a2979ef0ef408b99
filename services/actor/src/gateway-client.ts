import { errorMessage } from "@sluice/common";
import type { ChatMessage, InvalidToolCall, ToolSchema, WireToolCall } from "./chat-types.js";
import type { TokenUsage } from "./environment.js";
import { GatewayHttpError, GatewayProtocolError, GatewayTransportError } from "./errors.js";

export interface CompletionRequest {
  messages: ChatMessage[];
  tools?: ToolSchema[];
  maxTokens: number;
  temperature: number;
  topP: number;
  /** OpenAI `seed`; absent or 0 for unseeded sampling. */
  seed?: number;
  /** Sluice extension: let weight updates interrupt the generation (it resumes under the new weights). */
  interruptible?: boolean;
  /** Token-in/token-out session: the gateway keeps this conversation's exact tokens. */
  sessionId: string;
}

/**
 * One sampled turn. Token arrays stay in the gateway's packed little-endian form, which
 * is exactly what the Trajectory proto's bytes fields carry: no unpack/repack per token.
 */
export interface Completion {
  content: string | null;
  toolCalls: WireToolCall[];
  invalidToolCalls: InvalidToolCall[];
  finishReason: string;
  policyVersion: number;
  observationTokenIds: Uint8Array;
  actionTokenIds: Uint8Array;
  actionLogprobs: Uint8Array;
  actionPolicyVersions: Uint8Array;
  prefixOk: boolean;
  prefixMismatchReason?: string;
  /** OpenAI `usage`; absent when the response did not carry it. */
  usage?: TokenUsage;
}

/** What the episode runner needs from inference; the HTTP client is the real one. */
export interface ChatCompleter {
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion>;
  deleteSession(sessionId: string, signal?: AbortSignal): Promise<void>;
}

export interface GatewayClientOptions {
  baseUrl: string;
  model: string;
  requestTimeoutMs: number;
}

/** HTTP client for the gateway's OpenAI-compatible API plus the sluice extension. */
export class GatewayClient implements ChatCompleter {
  private readonly baseUrl: string;
  constructor(private readonly options: GatewayClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
    const url = `${this.baseUrl}/v1/chat/completions`;
    const body = {
      model: this.options.model,
      messages: request.messages,
      ...(request.tools && request.tools.length > 0 ? { tools: request.tools } : {}),
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      ...(request.seed ? { seed: request.seed } : {}),
      ...(request.interruptible ? { sluice_interruptible: true } : {}),
      sluice_session_id: request.sessionId,
    };
    const text = await this.send("POST", url, JSON.stringify(body), signal);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new GatewayProtocolError(`POST ${url}: response is not JSON`, { cause });
    }
    return decodeCompletion(json, url);
  }

  async deleteSession(sessionId: string, signal?: AbortSignal): Promise<void> {
    const url = `${this.baseUrl}/v1/sessions/${encodeURIComponent(sessionId)}`;
    try {
      await this.send("DELETE", url, undefined, signal);
    } catch (err) {
      // A session the gateway already expired is what we wanted anyway.
      if (err instanceof GatewayHttpError && err.status === 404) return;
      throw err;
    }
  }

  private async send(method: string, url: string, body: string | undefined, signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        signal: combined,
        ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
      });
      text = await res.text();
    } catch (cause) {
      // The caller's own abort propagates as-is so it can tell shutdown/deadline from failure.
      if (signal?.aborted) throw signal.reason ?? cause;
      const what = timeout.aborted
        ? `timed out after ${this.options.requestTimeoutMs} ms`
        : `failed: ${errorMessage(cause)}`;
      throw new GatewayTransportError(`${method} ${url} ${what}`, { cause });
    }
    if (!res.ok) throw new GatewayHttpError(method, url, res.status, text);
    return text;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function decodeB64(ext: Record<string, unknown>, field: string, url: string): Uint8Array {
  const value = ext[field];
  if (typeof value !== "string") throw new GatewayProtocolError(`${url}: sluice.${field} is missing`);
  const bytes = new Uint8Array(Buffer.from(value, "base64"));
  if (bytes.length % 4 !== 0) {
    throw new GatewayProtocolError(`${url}: sluice.${field} has ${bytes.length} bytes, not a multiple of 4`);
  }
  return bytes;
}

/** Validates a chat completion response and pulls out the token-level extension. */
export function decodeCompletion(json: unknown, url = "gateway"): Completion {
  if (!isRecord(json)) throw new GatewayProtocolError(`${url}: response is not an object`);
  const choices = json.choices;
  const choice = Array.isArray(choices) ? (choices[0] as unknown) : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) {
    throw new GatewayProtocolError(`${url}: response has no choices[0].message`);
  }
  const ext = json.sluice;
  if (!isRecord(ext)) {
    throw new GatewayProtocolError(`${url}: response lacks the sluice extension (is this the Sluice gateway?)`);
  }
  const message = choice.message;
  const content = typeof message.content === "string" ? message.content : null;
  const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as WireToolCall[]) : [];
  const invalidToolCalls = Array.isArray(ext.tool_call_errors) ? (ext.tool_call_errors as InvalidToolCall[]) : [];
  const actionTokenIds = decodeB64(ext, "action_token_ids_b64", url);
  const actionLogprobs = decodeB64(ext, "action_logprobs_b64", url);
  const actionPolicyVersions = decodeB64(ext, "action_policy_versions_b64", url);
  if (actionLogprobs.length !== actionTokenIds.length || actionPolicyVersions.length !== actionTokenIds.length) {
    throw new GatewayProtocolError(
      `${url}: ${actionTokenIds.length / 4} action tokens but ${actionLogprobs.length / 4} logprobs and ${actionPolicyVersions.length / 4} versions`,
    );
  }
  const completion: Completion = {
    content,
    toolCalls,
    invalidToolCalls,
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : "",
    policyVersion: typeof ext.policy_version === "number" ? ext.policy_version : -1,
    observationTokenIds: decodeB64(ext, "observation_token_ids_b64", url),
    actionTokenIds,
    actionLogprobs,
    actionPolicyVersions,
    prefixOk: ext.prefix_ok !== false,
  };
  if (typeof ext.prefix_mismatch_reason === "string") completion.prefixMismatchReason = ext.prefix_mismatch_reason;
  const usage = decodeUsage(json.usage);
  if (usage) completion.usage = usage;
  return completion;
}

function decodeUsage(value: unknown): TokenUsage | undefined {
  if (!isRecord(value)) return undefined;
  const { prompt_tokens: prompt, completion_tokens: completion } = value;
  if (typeof prompt !== "number" || typeof completion !== "number") return undefined;
  return { promptTokens: prompt, completionTokens: completion };
}
