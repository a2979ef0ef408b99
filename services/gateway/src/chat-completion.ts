import { randomBytes } from "node:crypto";
import { RpcError, packFloat32, packInt32, unpackInt32, type EngineApi, type Logger } from "@sluice/common";
import { EngineUnavailableError, InvalidRequestError, NotFoundError } from "./errors.js";
import { assistantMessage, toEngineMessages, toolsJson } from "./engine-messages.js";
import type { GatewayMetrics } from "./gateway-metrics.js";
import type {
  ChatCompletionParams,
  ChatCompletionResponse,
  LogprobEntry,
  ToolCall,
  ToolCallError,
} from "./openai-types.js";
import { checkSessionPrefix } from "./session-prefix.js";
import type { SessionStore } from "./session-store.js";
import { sampleResumable } from "./resumable-sample.js";
import { newToolCallId, parseToolCalls } from "./tool-calls.js";

export interface ChatCompletionDeps {
  engine: EngineApi;
  model: string;
  sessions: SessionStore;
  metrics: GatewayMetrics;
  logger: Logger;
  now?: () => number;
  makeToolCallId?: () => string;
}

// gRPC status codes the gateway distinguishes.
const INVALID_ARGUMENT = 3;
const FAILED_PRECONDITION = 9;
/** Bounds parallel per-token Detokenize calls when building logprobs. */
const DETOKENIZE_CONCURRENCY = 32;

interface Prompt {
  tokenIds: number[];
  observationIds: number[];
  prefixOk: boolean;
  mismatchReason?: string;
}

/** One non-streaming chat completion, with the token-in/token-out session extension. */
export async function completeChat(
  deps: ChatCompletionDeps,
  params: ChatCompletionParams,
): Promise<ChatCompletionResponse> {
  if (params.model !== deps.model) {
    throw new NotFoundError(
      `model ${JSON.stringify(params.model)} does not exist; this gateway serves ${JSON.stringify(deps.model)}`,
      "model",
      "model_not_found",
    );
  }
  const tools = toolsJson(params.tools);
  const prompt = await buildPrompt(deps, params, tools);
  if (!prompt.prefixOk) {
    deps.metrics.prefixMismatches.inc();
    deps.logger.warn("session prefix mismatch; fully re-rendered", {
      sessionId: params.sessionId,
      reason: prompt.mismatchReason,
    });
  }

  const sampled = await sampleResumable(
    (req) => engineCall(deps, "sample", () => deps.engine.sample(req)),
    prompt.tokenIds,
    {
      model: deps.model,
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      topP: params.topP,
      seed: params.seed,
      interruptible: params.interruptible,
    },
  );
  if (sampled.resumes > 0) deps.metrics.resumedGenerations.inc(sampled.resumes);
  const actionIds = sampled.tokenIds;
  const actionLogprobs = sampled.logprobs;
  const policyVersion = sampled.policyVersion;
  const actionIdsPacked = packInt32(actionIds);
  deps.metrics.policyVersion.set(policyVersion);
  deps.metrics.promptTokens.inc(prompt.tokenIds.length);
  deps.metrics.completionTokens.inc(actionIds.length);

  const text = (await engineCall(deps, "detokenize", () => deps.engine.detokenize(deps.model, actionIdsPacked, true)))
    .text;
  let content: string | null = text;
  let toolCalls: ToolCall[] = [];
  let toolCallErrors: ToolCallError[] = [];
  if (params.parseToolCalls) {
    const parsed = parseToolCalls(text, deps.makeToolCallId ?? newToolCallId);
    toolCallErrors = parsed.errors;
    if (parsed.errors.length > 0) {
      deps.metrics.toolCallParseErrors.inc(parsed.errors.length);
      deps.logger.warn("malformed tool call", {
        sessionId: params.sessionId,
        errors: parsed.errors.map((e) => e.error),
      });
    }
    if (parsed.toolCalls.length > 0) {
      toolCalls = parsed.toolCalls;
      content = parsed.content.length > 0 ? parsed.content : null;
    }
  }
  const finishReason = sampled.finishReason === "length" ? "length" : toolCalls.length > 0 ? "tool_calls" : "stop";
  const logprobs = params.logprobs ? { content: await logprobEntries(deps, actionIds, actionLogprobs) } : null;

  if (params.sessionId !== undefined) {
    // Concurrent requests on one session are not meaningful; the last one to finish wins.
    deps.sessions.put({
      id: params.sessionId,
      messages: [...params.messages, assistantMessage(content, toolCalls)],
      tokenIds: prompt.tokenIds.concat(actionIds),
      toolsJson: tools,
      lastUsedMs: 0,
    });
    deps.metrics.sessionsActive.set(deps.sessions.size);
  }

  const message: ChatCompletionResponse["choices"][number]["message"] = { role: "assistant", content, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const extension: ChatCompletionResponse["sluice"] = {
    session_id: params.sessionId ?? null,
    policy_version: policyVersion,
    observation_token_ids_b64: b64(packInt32(prompt.observationIds)),
    action_token_ids_b64: b64(actionIdsPacked),
    action_logprobs_b64: b64(packFloat32(actionLogprobs)),
    action_policy_versions_b64: b64(packInt32(sampled.policyVersions)),
    prefix_ok: prompt.prefixOk,
    tool_call_errors: toolCallErrors,
  };
  if (prompt.mismatchReason !== undefined) extension.prefix_mismatch_reason = prompt.mismatchReason;
  return {
    id: `chatcmpl-${randomBytes(12).toString("hex")}`,
    object: "chat.completion",
    created: Math.floor((deps.now ?? Date.now)() / 1000),
    model: deps.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs }],
    usage: {
      prompt_tokens: prompt.tokenIds.length,
      completion_tokens: actionIds.length,
      total_tokens: prompt.tokenIds.length + actionIds.length,
    },
    sluice: extension,
  };
}

async function buildPrompt(deps: ChatCompletionDeps, params: ChatCompletionParams, tools: string): Promise<Prompt> {
  const session = params.sessionId === undefined ? undefined : deps.sessions.get(params.sessionId);
  let mismatchReason: string | undefined;
  if (session !== undefined) {
    const check = checkSessionPrefix(session, params.messages, tools);
    if (check.ok) {
      try {
        const suffix = await deps.engine.renderChat({
          model: deps.model,
          messages: toEngineMessages(params.messages),
          addGenerationPrompt: true,
          toolsJson: tools,
          continuation: true,
        });
        const observationIds = unpackInt32(suffix.tokenIds, "render_chat.token_ids");
        return { tokenIds: session.tokenIds.concat(observationIds), observationIds, prefixOk: true };
      } catch (err) {
        // The template does not render the history as a stable prefix: fall back to a full
        // render and let the actor mark the trajectory.
        if (!(err instanceof RpcError && err.code === FAILED_PRECONDITION))
          throw engineFailure(deps, "renderChat", err);
        mismatchReason = `engine: ${err.message}`;
      }
    } else {
      mismatchReason = check.reason;
    }
  } else if (params.sessionId !== undefined && params.messages.some((m) => m.role === "assistant")) {
    // Unknown (expired, evicted or deleted) session that already has assistant turns:
    // those are re-tokenised, so the sampled ids are not reproduced exactly.
    mismatchReason = "session unknown or expired; earlier assistant turns were re-rendered";
  }
  const full = await engineCall(deps, "renderChat", () =>
    deps.engine.renderChat({
      model: deps.model,
      messages: toEngineMessages(params.messages),
      addGenerationPrompt: true,
      toolsJson: tools,
      continuation: false,
    }),
  );
  const tokenIds = unpackInt32(full.tokenIds, "render_chat.token_ids");
  const prompt: Prompt = { tokenIds, observationIds: tokenIds, prefixOk: mismatchReason === undefined };
  if (mismatchReason !== undefined) prompt.mismatchReason = mismatchReason;
  return prompt;
}

async function logprobEntries(deps: ChatCompletionDeps, ids: number[], logprobs: number[]): Promise<LogprobEntry[]> {
  const tokens = new Array<string>(ids.length);
  for (let start = 0; start < ids.length; start += DETOKENIZE_CONCURRENCY) {
    const batch = ids.slice(start, start + DETOKENIZE_CONCURRENCY);
    const texts = await Promise.all(
      batch.map((id) =>
        engineCall(deps, "detokenize", () => deps.engine.detokenize(deps.model, packInt32([id]), false)),
      ),
    );
    texts.forEach((t, i) => (tokens[start + i] = t.text));
  }
  return ids.map((_, i) => {
    const token = tokens[i] ?? "";
    return { token, logprob: logprobs[i] ?? 0, bytes: Array.from(Buffer.from(token, "utf8")), top_logprobs: [] };
  });
}

async function engineCall<T>(deps: ChatCompletionDeps, method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw engineFailure(deps, method, err);
  }
}

/** Engine rejections of the input are the client's to fix (400); anything else is a 503. */
function engineFailure(deps: ChatCompletionDeps, method: string, err: unknown): Error {
  if (err instanceof RpcError && err.code === INVALID_ARGUMENT) {
    return new InvalidRequestError("messages", `engine rejected the request: ${err.message}`);
  }
  deps.metrics.engineErrors.inc({ method });
  return new EngineUnavailableError(
    `engine ${method} failed: ${err instanceof Error ? err.message : String(err)}`,
    err,
  );
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
