import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GrpcEngineClient, createLogger, createMetricsRegistry } from "@sluice/common";
import { engineSkip, startEngine, type EngineProcess } from "@sluice/common/internal";
import OpenAI from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { decodeSluiceExtension } from "./decode-extension.js";
import { createGatewayServer, type GatewayServer } from "./gateway-server.js";
import type { SluiceRequestExtension, SluiceResponseExtension } from "./openai-types.js";

type SluiceParams = ChatCompletionCreateParamsNonStreaming & SluiceRequestExtension;
type SluiceCompletion = ChatCompletion & { sluice: SluiceResponseExtension };

describe("gateway over the real engine (tiny model)", { skip: engineSkip, timeout: 300_000 }, () => {
  let engineProc: EngineProcess | undefined;
  let engine: GrpcEngineClient | undefined;
  let gateway: GatewayServer | undefined;
  let client: OpenAI;

  before(async () => {
    engineProc = await startEngine();
    engine = new GrpcEngineClient(`127.0.0.1:${engineProc.port}`, { sampleMs: 60_000 });
    gateway = createGatewayServer({
      engine,
      model: "policy",
      logger: createLogger({ experiment: "test", component: "gateway", level: "error" }),
      registry: createMetricsRegistry("gateway", "test"),
    });
    const url = await gateway.listen(0, "127.0.0.1");
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0, timeout: 60_000 });
  });

  after(async () => {
    await gateway?.close();
    engine?.close();
    await engineProc?.stop(15_000);
  });

  const create = async (params: SluiceParams): Promise<SluiceCompletion> =>
    (await client.chat.completions.create(params)) as SluiceCompletion;

  it("runs a two-turn session whose second prompt extends the first turn's exact tokens", async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["policy"],
    );
    const turn1: ChatCompletionMessageParam[] = [
      { role: "system", content: "You are terse." },
      { role: "user", content: "hello" },
    ];
    const r1 = await create({
      model: "policy",
      messages: turn1,
      max_tokens: 12,
      temperature: 1,
      seed: 7,
      sluice_session_id: "int-1",
    });
    const e1 = decodeSluiceExtension(r1.sluice);
    assert.equal(e1.prefixOk, true);
    assert.ok(e1.actionTokenIds.length > 0 && e1.actionTokenIds.length <= 12);
    assert.equal(e1.actionLogprobs.length, e1.actionTokenIds.length);
    assert.ok(e1.actionLogprobs.every((lp) => Number.isFinite(lp) && lp <= 0));
    assert.deepEqual(
      e1.actionPolicyVersions,
      e1.actionTokenIds.map(() => e1.policyVersion),
    );
    assert.equal(r1.usage?.prompt_tokens, e1.observationTokenIds.length);

    const turn2: ChatCompletionMessageParam[] = [
      ...turn1,
      { role: "assistant", content: r1.choices[0]?.message.content ?? "" },
      { role: "user", content: "again" },
    ];
    const r2 = await create({
      model: "policy",
      messages: turn2,
      max_tokens: 8,
      temperature: 1,
      seed: 8,
      sluice_session_id: "int-1",
    });
    const e2 = decodeSluiceExtension(r2.sluice);
    assert.equal(e2.prefixOk, true, r2.sluice.prefix_mismatch_reason);
    assert.ok(e2.observationTokenIds.length > 0);
    // Only the new messages were rendered; the prompt is turn 1's prompt + sampled ids + them.
    assert.equal(
      r2.usage?.prompt_tokens,
      e1.observationTokenIds.length + e1.actionTokenIds.length + e2.observationTokenIds.length,
    );
    const stored = gateway?.sessions.get("int-1")?.tokenIds ?? [];
    assert.deepEqual(stored, [
      ...e1.observationTokenIds,
      ...e1.actionTokenIds,
      ...e2.observationTokenIds,
      ...e2.actionTokenIds,
    ]);

    const del = await fetch(`${gateway?.url}/v1/sessions/int-1`, { method: "DELETE" });
    assert.equal(del.status, 200);
  });

  it("renders tool calls and tool results through the engine's chat template", async () => {
    const res = await create({
      model: "policy",
      messages: [
        { role: "user", content: "list files" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "bash", arguments: '{"cmd": "ls"}' } }],
        },
        { role: "tool", tool_call_id: "c1", content: "a.txt" },
      ],
      tools: [
        {
          type: "function",
          function: { name: "bash", parameters: { type: "object", properties: { cmd: { type: "string" } } } },
        },
      ],
      max_tokens: 4,
      logprobs: true,
    });
    assert.equal(res.choices[0]?.logprobs?.content?.length, res.usage?.completion_tokens);
    assert.ok((res.usage?.prompt_tokens ?? 0) > 20);
  });

  it("falls back to a full render with prefix_ok false when the agent edits its history", async () => {
    const turn1: ChatCompletionMessageParam[] = [{ role: "user", content: "hi" }];
    await create({ model: "policy", messages: turn1, max_tokens: 4, sluice_session_id: "int-2" });
    const r2 = await create({
      model: "policy",
      messages: [...turn1, { role: "assistant", content: "not what was sampled" }, { role: "user", content: "ok" }],
      max_tokens: 4,
      sluice_session_id: "int-2",
    });
    assert.equal(r2.sluice.prefix_ok, false);
    assert.match(r2.sluice.prefix_mismatch_reason ?? "", /messages\[1\] differs/);
    assert.equal(decodeSluiceExtension(r2.sluice).observationTokenIds.length, r2.usage?.prompt_tokens);
  });
});
