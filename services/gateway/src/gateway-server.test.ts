import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { RpcError, createLogger, createMetricsRegistry, unpackInt32 } from "@sluice/common";
import OpenAI from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { decodeSluiceExtension } from "./decode-extension.js";
import { createGatewayServer, type GatewayServer } from "./gateway-server.js";
import type { SluiceRequestExtension, SluiceResponseExtension } from "./openai-types.js";
import { FAKE_EOS_ID, FakeEngine, fakeRenderText, fakeTokenize } from "./testing/fake-engine.js";
import { toEngineMessages } from "./engine-messages.js";
import { validateChatRequest } from "./validate-request.js";

type SluiceParams = ChatCompletionCreateParamsNonStreaming & SluiceRequestExtension;
type SluiceCompletion = ChatCompletion & { sluice: SluiceResponseExtension };

const TOOLS: ChatCompletionCreateParamsNonStreaming["tools"] = [
  {
    type: "function",
    function: {
      name: "bash",
      description: "run a command",
      parameters: { type: "object", properties: { cmd: { type: "string" } } },
    },
  },
];
// Spaced JSON: the fake template renders tool calls compactly, so a re-render of this
// turn would not reproduce the sampled ids; only token-in/token-out keeps them.
const TOOL_TEXT = 'Listing.\n<tool_call>\n{"name": "bash", "arguments": {"cmd": "ls"}}\n</tool_call>';

/** The token ids the fake engine would render for these messages (full render). */
function rendered(messages: ChatCompletionMessageParam[], tools: typeof TOOLS | null = TOOLS): number[] {
  const params = validateChatRequest({ model: "policy", messages, tools });
  return fakeTokenize(fakeRenderText(toEngineMessages(params.messages), true, tools ? JSON.stringify(tools) : ""));
}

describe("gateway over a fake engine, driven by the openai client", () => {
  let engine: FakeEngine;
  let gateway: GatewayServer;
  let client: OpenAI;
  let registry: ReturnType<typeof createMetricsRegistry>;
  let toolCallSeq = 0;

  before(async () => {
    registry = createMetricsRegistry("gateway", "test");
    engine = new FakeEngine();
    gateway = createGatewayServer({
      engine,
      model: "policy",
      logger: createLogger({ experiment: "test", component: "gateway", level: "error" }),
      registry,
      maxBodyBytes: 64 * 1024,
      makeToolCallId: () => `call_${toolCallSeq++}`,
    });
    const url = await gateway.listen(0, "127.0.0.1");
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0, timeout: 10_000 });
  });
  after(async () => {
    await gateway.close();
  });
  beforeEach(() => {
    engine.renderCalls.length = 0;
    engine.sampleCalls.length = 0;
    engine.sampledPrompts.length = 0;
  });

  const create = async (params: SluiceParams): Promise<SluiceCompletion> =>
    (await client.chat.completions.create(params)) as SluiceCompletion;

  it("lists the spec's model owned by sluice", async () => {
    const page = await client.models.list();
    assert.deepEqual(
      page.data.map((m) => [m.id, m.object, m.owned_by]),
      [["policy", "model", "sluice"]],
    );
    const one = await client.models.retrieve("policy");
    assert.equal(one.id, "policy");
  });

  it("answers a plain chat with content, usage and the sluice extension", async () => {
    engine.enqueue("Hello there");
    const res = await create({ model: "policy", messages: [{ role: "user", content: "hi" }], max_tokens: 32 });
    assert.equal(res.object, "chat.completion");
    assert.equal(res.choices[0]?.message.content, "Hello there");
    assert.equal(res.choices[0]?.finish_reason, "stop");
    const prompt = rendered([{ role: "user", content: "hi" }], null);
    assert.deepEqual(engine.sampledPrompts[0], prompt);
    const ext = decodeSluiceExtension(res.sluice);
    assert.deepEqual(ext.actionTokenIds, [...fakeTokenize("Hello there"), FAKE_EOS_ID]);
    assert.deepEqual(ext.observationTokenIds, prompt);
    assert.equal(ext.actionLogprobs.length, ext.actionTokenIds.length);
    assert.deepEqual(
      ext.actionPolicyVersions,
      ext.actionTokenIds.map(() => 7),
    );
    assert.equal(ext.policyVersion, 7);
    assert.equal(ext.sessionId, null);
    assert.equal(ext.prefixOk, true);
    assert.deepEqual(res.usage, {
      prompt_tokens: prompt.length,
      completion_tokens: ext.actionTokenIds.length,
      total_tokens: prompt.length + ext.actionTokenIds.length,
    });
    const sample = engine.sampleCalls[0];
    assert.equal(sample?.params?.maxTokens, 32);
    assert.equal(sample?.numSamples, 1);
  });

  it("returns tool calls in the OpenAI schema when tools are given", async () => {
    engine.enqueue(TOOL_TEXT);
    const res = await create({ model: "policy", messages: [{ role: "user", content: "list files" }], tools: TOOLS });
    const choice = res.choices[0];
    assert.equal(choice?.finish_reason, "tool_calls");
    assert.equal(choice?.message.content, "Listing.");
    const calls = choice?.message.tool_calls ?? [];
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.ok(call && call.type === "function");
    assert.equal(call.function.name, "bash");
    assert.deepEqual(JSON.parse(call.function.arguments), { cmd: "ls" });
    assert.match(call.id, /^call_/);
    assert.deepEqual(res.sluice.tool_call_errors, []);
    assert.equal(engine.renderCalls[0]?.toolsJson, JSON.stringify(TOOLS));
  });

  it("keeps a malformed tool call as content and reports it", async () => {
    engine.enqueue('<tool_call>{"name": "bash", "arguments": {cmd}}</tool_call>');
    const res = await create({ model: "policy", messages: [{ role: "user", content: "go" }], tools: TOOLS });
    assert.equal(res.choices[0]?.finish_reason, "stop");
    assert.equal(res.choices[0]?.message.tool_calls, undefined);
    assert.equal(res.choices[0]?.message.content, '<tool_call>{"name": "bash", "arguments": {cmd}}</tool_call>');
    assert.equal(res.sluice.tool_call_errors.length, 1);
    assert.match(res.sluice.tool_call_errors[0]?.error ?? "", /invalid JSON/);
  });

  it("continues a session token-in/token-out: turn 2 prompt = turn 1 prompt + sampled ids + new messages", async () => {
    const turn1: ChatCompletionMessageParam[] = [
      { role: "system", content: "You are an agent." },
      { role: "user", content: "list files" },
    ];
    engine.enqueue(TOOL_TEXT, "Done: a.txt");
    const r1 = await create({ model: "policy", messages: turn1, tools: TOOLS, sluice_session_id: "tito" });
    const e1 = decodeSluiceExtension(r1.sluice);
    const prompt1 = engine.sampledPrompts[0] as number[];
    assert.deepEqual(prompt1, rendered(turn1));
    assert.equal(e1.sessionId, "tito");

    const assistant = r1.choices[0]?.message;
    assert.ok(assistant);
    const toolCallId = assistant.tool_calls?.[0]?.id ?? "";
    const turn2: ChatCompletionMessageParam[] = [
      ...turn1,
      { role: "assistant", content: assistant.content, tool_calls: assistant.tool_calls },
      { role: "tool", tool_call_id: toolCallId, content: "a.txt" },
      { role: "user", content: "and now?" },
    ];
    const r2 = await create({ model: "policy", messages: turn2, tools: TOOLS, sluice_session_id: "tito" });
    const e2 = decodeSluiceExtension(r2.sluice);
    assert.equal(e2.prefixOk, true);
    assert.equal(r2.choices[0]?.message.content, "Done: a.txt");

    // The engine renders only what follows the last assistant message.
    const renderCall = engine.renderCalls[1];
    assert.equal(renderCall?.continuation, true);
    const params2 = validateChatRequest({ model: "policy", messages: turn2, tools: TOOLS });
    const fullText = fakeRenderText(toEngineMessages(params2.messages), true, JSON.stringify(TOOLS));
    const prefixText = fakeRenderText(toEngineMessages(params2.messages.slice(0, 3)), false, JSON.stringify(TOOLS));
    const newMessageIds = fakeTokenize(fullText.slice(prefixText.length));

    const prompt2 = engine.sampledPrompts[1];
    assert.deepEqual(prompt2, [...prompt1, ...e1.actionTokenIds, ...newMessageIds]);
    assert.deepEqual(e2.observationTokenIds, newMessageIds);
    assert.equal(r2.usage?.prompt_tokens, prompt2?.length);
    // A full re-render would have re-tokenised the tool call differently.
    assert.notDeepEqual(prompt2, rendered(turn2));
    // The turns concatenate to the session's exact token stream.
    assert.deepEqual([...e1.observationTokenIds, ...e1.actionTokenIds, ...e2.observationTokenIds], prompt2);
    assert.equal(gateway.sessions.get("tito")?.tokenIds.length, (prompt2?.length ?? 0) + e2.actionTokenIds.length);
  });

  it("falls back to a full render, flags prefix_ok false and counts it when history was edited", async () => {
    const turn1: ChatCompletionMessageParam[] = [{ role: "user", content: "say hi" }];
    engine.enqueue("hi", "again");
    await create({ model: "policy", messages: turn1, sluice_session_id: "edited" });
    const turn2: ChatCompletionMessageParam[] = [
      ...turn1,
      { role: "assistant", content: "hello (edited by the agent)" },
      { role: "user", content: "again" },
    ];
    const res = await create({ model: "policy", messages: turn2, sluice_session_id: "edited" });
    assert.equal(res.sluice.prefix_ok, false);
    assert.match(res.sluice.prefix_mismatch_reason ?? "", /messages\[1\] differs/);
    assert.equal(engine.renderCalls[1]?.continuation, false);
    assert.deepEqual(engine.sampledPrompts[1], rendered(turn2, null));
    assert.deepEqual(decodeSluiceExtension(res.sluice).observationTokenIds, engine.sampledPrompts[1]);
    const metrics = await registry.metrics();
    assert.match(metrics, /sluice_gateway_prefix_mismatches_total\{[^}]*\} [1-9]/);

    // The session now continues from the re-rendered state.
    engine.enqueue("third");
    const turn3: ChatCompletionMessageParam[] = [
      ...turn2,
      { role: "assistant", content: "again" },
      { role: "user", content: "more" },
    ];
    const r3 = await create({ model: "policy", messages: turn3, sluice_session_id: "edited" });
    assert.equal(r3.sluice.prefix_ok, true);
  });

  it("frees a session on DELETE; a later turn of it is flagged as re-rendered", async () => {
    engine.enqueue("one", "two");
    const turn1: ChatCompletionMessageParam[] = [{ role: "user", content: "x" }];
    await create({ model: "policy", messages: turn1, sluice_session_id: "gone" });
    const del = await fetch(`${gateway.url}/v1/sessions/gone`, { method: "DELETE" });
    assert.equal(del.status, 200);
    assert.deepEqual(await del.json(), { id: "gone", object: "sluice.session", deleted: true });
    assert.equal(gateway.sessions.get("gone"), undefined);
    const res = await create({
      model: "policy",
      messages: [...turn1, { role: "assistant", content: "one" }, { role: "user", content: "y" }],
      sluice_session_id: "gone",
    });
    assert.equal(res.sluice.prefix_ok, false);
    assert.match(res.sluice.prefix_mismatch_reason ?? "", /unknown or expired/);
    const again = await fetch(`${gateway.url}/v1/sessions/nope`, { method: "DELETE" });
    assert.deepEqual(await again.json(), { id: "nope", object: "sluice.session", deleted: false });
  });

  it("falls back to a full render when the engine says the history is not a stable prefix", async () => {
    engine.enqueue("first", "second");
    const turn1: ChatCompletionMessageParam[] = [{ role: "user", content: "a" }];
    await create({ model: "policy", messages: turn1, sluice_session_id: "unstable" });
    engine.failNext("renderChat", new RpcError("Engine.RenderChat", 9, "continuation: not a prefix"));
    const turn2: ChatCompletionMessageParam[] = [
      ...turn1,
      { role: "assistant", content: "first" },
      { role: "user", content: "b" },
    ];
    const res = await create({ model: "policy", messages: turn2, sluice_session_id: "unstable" });
    assert.equal(res.sluice.prefix_ok, false);
    assert.match(res.sluice.prefix_mismatch_reason ?? "", /^engine: .*not a prefix/);
    assert.deepEqual(
      engine.renderCalls.map((c) => c.continuation),
      [false, true, false],
    );
    assert.deepEqual(engine.sampledPrompts[1], rendered(turn2, null));
  });

  it("answers an engine rejection of the input with 400, not 503", async () => {
    engine.failNext("renderChat", new RpcError("Engine.RenderChat", 3, "messages: chat template failed"));
    await assert.rejects(
      client.chat.completions.create({ model: "policy", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /chat template failed/.test(err.message),
    );
  });

  it("returns per-token logprobs with token strings when asked", async () => {
    engine.enqueue("ab");
    const res = await create({ model: "policy", messages: [{ role: "user", content: "x" }], logprobs: true });
    const entries = res.choices[0]?.logprobs?.content ?? [];
    assert.deepEqual(
      entries.map((e) => e.token),
      ["a", "b", "<|end|>"],
    );
    assert.deepEqual(
      entries.map((e) => e.logprob),
      [-0.25, -0.5, -0.75],
    );
    assert.deepEqual(entries[0]?.bytes, [97]);
  });

  it("reports finish_reason length when max_tokens cuts the completion", async () => {
    engine.enqueue("a long answer");
    const res = await create({ model: "policy", messages: [{ role: "user", content: "x" }], max_tokens: 3 });
    assert.equal(res.choices[0]?.finish_reason, "length");
    assert.equal(res.choices[0]?.message.content, "a l");
    assert.equal(res.usage?.completion_tokens, 3);
  });

  it("rejects malformed requests with BadRequestError naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ model: "policy", messages: [] }, "messages", /messages: must contain at least one message/],
      [{ model: "policy", messages: [{ role: "robot", content: "x" }] }, "messages[0].role", /robot/],
      [
        { model: "policy", messages: [{ role: "user", content: "x" }], max_tokens: 0 },
        "max_tokens",
        /positive integer/,
      ],
      [
        { model: "policy", messages: [{ role: "user", content: "x" }], temperature: 3 },
        "temperature",
        /between 0 and 2/,
      ],
      [{ model: "policy", messages: [{ role: "user", content: "x" }], n: 3 }, "n", /n = 1/],
    ];
    for (const [body, param, message] of cases) {
      await assert.rejects(
        client.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming),
        (err: unknown) => {
          assert.ok(err instanceof OpenAI.BadRequestError, `expected BadRequestError for ${param}, got ${String(err)}`);
          assert.equal(err.status, 400);
          assert.equal(err.param, param);
          assert.equal(err.type, "invalid_request_error");
          assert.match(err.message, message);
          return true;
        },
      );
    }
    assert.equal(engine.sampleCalls.length, 0);
  });

  it("refuses streaming with a clear 400", async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "policy", messages: [{ role: "user", content: "x" }], stream: true }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string; param: string } };
    assert.equal(body.error.param, "stream");
    assert.match(body.error.message, /streaming not supported yet/);
  });

  it("answers an unknown model with 404 NotFoundError", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "gpt-9", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === "model_not_found" && err.param === "model",
    );
  });

  it("answers invalid JSON with 400 and oversized bodies with 413", async () => {
    const bad = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", body: "{not json" });
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as { error: { type: string; code: string } };
    assert.equal(badBody.error.type, "invalid_request_error");
    assert.equal(badBody.error.code, "invalid_json");
    const big = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "policy", messages: [{ role: "user", content: "x".repeat(100 * 1024) }] }),
    });
    assert.equal(big.status, 413);
    const bigBody = (await big.json()) as { error: { code: string } };
    assert.equal(bigBody.error.code, "payload_too_large");
  });

  it("maps engine failures to 503 in OpenAI error format and counts them", async () => {
    engine.failNext("sample", new Error("connection refused"));
    await assert.rejects(
      client.chat.completions.create({ model: "policy", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 503 && err.code === "engine_unavailable",
    );
    const metrics = await registry.metrics();
    assert.match(metrics, /sluice_gateway_engine_errors_total\{[^}]*method="sample"[^}]*\} 1/);
  });

  it("serves /healthz and unknown routes with OpenAI-format 404", async () => {
    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
    const missing = await fetch(`${gateway.url}/v1/completions`, { method: "POST", body: "{}" });
    assert.equal(missing.status, 404);
    const body = (await missing.json()) as { error: { type: string } };
    assert.equal(body.error.type, "invalid_request_error");
    const wrongMethod = await fetch(`${gateway.url}/v1/chat/completions`);
    assert.equal(wrongMethod.status, 405);
  });

  it("exports request, token, session and policy metrics", async () => {
    const text = await registry.metrics();
    assert.match(
      text,
      /sluice_gateway_requests_total\{[^}]*route="\/v1\/chat\/completions"[^}]*status="200"[^}]*\} [1-9]/,
    );
    assert.match(text, /sluice_gateway_requests_total\{[^}]*status="400"[^}]*\} [1-9]/);
    assert.match(text, /sluice_gateway_request_latency_seconds_bucket/);
    assert.match(text, /sluice_gateway_completion_tokens_total\{[^}]*\} [1-9]/);
    assert.match(text, /sluice_gateway_prompt_tokens_total\{[^}]*\} [1-9]/);
    assert.match(text, /sluice_gateway_sessions_active\{[^}]*\} [1-9]/);
    assert.match(text, /sluice_gateway_tool_call_parse_errors_total\{[^}]*\} [1-9]/);
    assert.match(text, /sluice_gateway_policy_version\{[^}]*\} 7/);
  });

  it("decodes packed ids as little-endian int32", () => {
    const bytes = new Uint8Array(
      Buffer.from(Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]).toString("base64"), "base64"),
    );
    assert.deepEqual(unpackInt32(bytes), [1, 0x7fffffff]);
  });
});
