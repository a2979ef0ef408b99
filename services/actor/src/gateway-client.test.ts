import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { unpackFloat32, unpackInt32 } from "@sluice/common";
import { GatewayHttpError, GatewayProtocolError, GatewayTransportError } from "./errors.js";
import { GatewayClient, decodeCompletion } from "./gateway-client.js";
import { startFakeGateway, type FakeGateway, type FakeReply } from "./testing/fake-gateway.js";

void describe("GatewayClient", () => {
  let gw: FakeGateway;
  const replies: FakeReply[] = [];
  before(async () => {
    gw = await startFakeGateway(() => replies.shift() ?? { content: "ok" });
  });
  after(() => gw.close());
  const client = (timeoutMs = 2_000) =>
    new GatewayClient({ baseUrl: gw.url + "/", model: "policy", requestTimeoutMs: timeoutMs });

  void it("sends the OpenAI request with the session id and decodes the packed extension", async () => {
    replies.push({
      content: "4",
      observationTokenIds: [1, 2, 3],
      actionTokenIds: [52, 7],
      actionLogprobs: [-0.25, -1.5],
      actionPolicyVersions: [3, 4],
      policyVersion: 4,
      finishReason: "length",
    });
    const c = await client().complete({
      messages: [{ role: "user", content: "3" }],
      maxTokens: 8,
      temperature: 0.7,
      topP: 0.9,
      sessionId: "s-1",
    });
    const req = gw.requests.at(-1);
    assert.deepEqual(req, {
      model: "policy",
      messages: [{ role: "user", content: "3" }],
      max_tokens: 8,
      temperature: 0.7,
      top_p: 0.9,
      sluice_session_id: "s-1",
    });
    assert.equal(c.content, "4");
    assert.equal(c.finishReason, "length");
    assert.equal(c.policyVersion, 4);
    assert.deepEqual(unpackInt32(c.observationTokenIds), [1, 2, 3]);
    assert.deepEqual(unpackInt32(c.actionTokenIds), [52, 7]);
    assert.deepEqual(unpackFloat32(c.actionLogprobs), [-0.25, -1.5]);
    assert.deepEqual(unpackInt32(c.actionPolicyVersions), [3, 4]);
    assert.equal(c.prefixOk, true);
  });

  void it("turns HTTP errors into GatewayHttpError with status and body", async () => {
    replies.push({ status: 503, body: '{"error":{"message":"engine unavailable"}}' });
    await assert.rejects(
      client().complete({ messages: [], maxTokens: 1, temperature: 1, topP: 1, sessionId: "s" }),
      (err: unknown) =>
        err instanceof GatewayHttpError &&
        err.status === 503 &&
        err.retryable &&
        err.body.includes("engine unavailable"),
    );
    replies.push({ status: 400, body: "bad" });
    await assert.rejects(
      client().complete({ messages: [], maxTokens: 1, temperature: 1, topP: 1, sessionId: "s" }),
      (err: unknown) => err instanceof GatewayHttpError && err.status === 400 && !err.retryable,
    );
  });

  void it("times out a slow request with GatewayTransportError", async () => {
    replies.push({ content: "late", delayMs: 500 });
    await assert.rejects(
      client(100).complete({ messages: [], maxTokens: 1, temperature: 1, topP: 1, sessionId: "s" }),
      (err: unknown) => err instanceof GatewayTransportError && /timed out after 100 ms/.test(err.message),
    );
  });

  void it("passes the caller's abort reason through unchanged", async () => {
    replies.push({ content: "late", delayMs: 500 });
    const reason = new Error("shutdown");
    const ac = new AbortController();
    setTimeout(() => ac.abort(reason), 50);
    await assert.rejects(
      client().complete({ messages: [], maxTokens: 1, temperature: 1, topP: 1, sessionId: "s" }, ac.signal),
      (err: unknown) => err === reason,
    );
  });

  void it("deletes sessions", async () => {
    await client().deleteSession("traj-1");
    assert.ok(gw.deletedSessions.includes("traj-1"));
  });

  void it("reports an unreachable gateway as a transport error", async () => {
    const c = new GatewayClient({ baseUrl: "http://127.0.0.1:1", model: "m", requestTimeoutMs: 1_000 });
    await assert.rejects(c.deleteSession("x"), GatewayTransportError);
  });
});

void describe("decodeCompletion", () => {
  const ok = () => ({
    choices: [{ message: { content: "1" }, finish_reason: "stop" }],
    sluice: {
      policy_version: 0,
      observation_token_ids_b64: "",
      action_token_ids_b64: Buffer.from(new Uint8Array(4)).toString("base64"),
      action_logprobs_b64: Buffer.from(new Uint8Array(4)).toString("base64"),
      action_policy_versions_b64: Buffer.from(new Uint8Array(4)).toString("base64"),
      prefix_ok: false,
      prefix_mismatch_reason: "template changed",
    },
  });
  void it("accepts a well-formed response and reports prefix mismatches", () => {
    const c = decodeCompletion(ok());
    assert.equal(c.prefixOk, false);
    assert.equal(c.prefixMismatchReason, "template changed");
  });
  const broken: Array<[string, (j: ReturnType<typeof ok>) => unknown]> = [
    ["no sluice extension", (j) => ({ ...j, sluice: undefined })],
    ["no choices", (j) => ({ ...j, choices: [] })],
    ["ragged byte length", (j) => ({ ...j, sluice: { ...j.sluice, action_token_ids_b64: "AAA=" } })],
    ["logprobs not aligned with tokens", (j) => ({ ...j, sluice: { ...j.sluice, action_logprobs_b64: "" } })],
    ["missing versions", (j) => ({ ...j, sluice: { ...j.sluice, action_policy_versions_b64: undefined } })],
  ];
  for (const [name, mutate] of broken) {
    void it(`rejects a response with ${name}`, () => {
      assert.throws(() => decodeCompletion(mutate(ok())), GatewayProtocolError);
    });
  }
});
