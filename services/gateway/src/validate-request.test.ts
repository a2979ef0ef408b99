import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidRequestError } from "./errors.js";
import { validateChatRequest } from "./validate-request.js";

const base = { model: "policy", messages: [{ role: "user", content: "hi" }] };

function rejects(body: unknown, param: string | null, pattern?: RegExp): void {
  assert.throws(
    () => validateChatRequest(body),
    (err: unknown) => {
      assert.ok(err instanceof InvalidRequestError, `expected InvalidRequestError, got ${String(err)}`);
      assert.equal(err.status, 400);
      assert.equal(err.type, "invalid_request_error");
      assert.equal(err.param, param);
      if (pattern) assert.match(err.message, pattern);
      return true;
    },
  );
}

describe("validateChatRequest", () => {
  it("fills defaults for a minimal request", () => {
    const p = validateChatRequest(base);
    assert.equal(p.model, "policy");
    assert.deepEqual(p.messages, [{ role: "user", content: "hi" }]);
    assert.equal(p.maxTokens, 1024);
    assert.equal(p.temperature, 1);
    assert.equal(p.topP, 1);
    assert.equal(p.seed, 0);
    assert.equal(p.logprobs, false);
    assert.equal(p.sessionId, undefined);
    assert.equal(p.parseToolCalls, false);
    assert.equal(p.interruptible, false);
    assert.equal(validateChatRequest({ ...base, sluice_interruptible: true }).interruptible, true);
  });

  it("rejects non-object bodies", () => {
    rejects([1, 2], null, /JSON object/);
    rejects("x", null);
  });

  it("names missing, empty and malformed messages", () => {
    rejects({ model: "policy" }, "messages", /required/);
    rejects({ model: "policy", messages: [] }, "messages", /at least one/);
    rejects({ model: "policy", messages: "hi" }, "messages", /array/);
    rejects({ model: "policy", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role", /wizard/);
    rejects({ model: "policy", messages: [{ role: "user" }] }, "messages[0].content", /required/);
    rejects({ model: "policy", messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id");
    rejects(
      { model: "policy", messages: [{ role: "user", content: [{ type: "image_url" }] }] },
      "messages[0].content[0]",
    );
    rejects({ model: "policy", messages: [{ role: "assistant", content: null }] }, "messages[0].content");
  });

  it("validates sampling parameters", () => {
    rejects({ ...base, max_tokens: 0 }, "max_tokens", /positive integer/);
    rejects({ ...base, max_tokens: 1.5 }, "max_tokens", /positive integer/);
    rejects({ ...base, max_completion_tokens: -3 }, "max_completion_tokens");
    rejects({ ...base, max_tokens: 10_000_000 }, "max_tokens", /at most/);
    rejects({ ...base, temperature: 2.5 }, "temperature", /between 0 and 2/);
    rejects({ ...base, temperature: "hot" }, "temperature", /number/);
    rejects({ ...base, top_p: 0 }, "top_p");
    rejects({ ...base, n: 2 }, "n", /n = 1/);
    rejects({ ...base, stream: true }, "stream", /streaming not supported yet/);
    rejects({ ...base, stop: ["\n"] }, "stop");
    rejects({ ...base, seed: 1.5 }, "seed");
    rejects({ ...base, top_logprobs: 5 }, "top_logprobs");
    rejects({ ...base, tool_choice: "required" }, "tool_choice");
    rejects({ ...base, sluice_session_id: "" }, "sluice_session_id");
    rejects({ ...base, sluice_interruptible: "yes" }, "sluice_interruptible");
  });

  it("validates tools and assistant tool calls", () => {
    rejects({ ...base, tools: [{ type: "function", function: {} }] }, "tools[0].function.name");
    rejects({ ...base, tools: [{ type: "retrieval" }] }, "tools[0].type");
    rejects(
      {
        model: "policy",
        messages: [
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: 3 } }],
          },
        ],
      },
      "messages[0].tool_calls[0].function.arguments",
    );
    rejects({ model: "policy", messages: [{ role: "user", content: "x", tool_calls: [] }] }, "messages[0].tool_calls");
  });

  it("accepts the full OpenAI shape and normalises it", () => {
    const p = validateChatRequest({
      model: "policy",
      messages: [
        {
          role: "developer",
          content: [
            { type: "text", text: "be " },
            { type: "text", text: "brief" },
          ],
        },
        { role: "user", content: "run ls" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "bash", arguments: { cmd: "ls" } } }],
        },
        { role: "tool", tool_call_id: "c1", content: "a.txt" },
      ],
      tools: [{ type: "function", function: { name: "bash", parameters: { type: "object" } } }],
      max_completion_tokens: 64,
      max_tokens: 999,
      temperature: 0,
      top_p: 0.9,
      seed: 42,
      n: 1,
      logprobs: true,
      stop: [],
      sluice_session_id: "s1",
      frequency_penalty: 0,
    });
    assert.deepEqual(p.messages, [
      { role: "system", content: "be brief" },
      { role: "user", content: "run ls" },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "c1", type: "function", function: { name: "bash", arguments: '{"cmd":"ls"}' } }],
      },
      { role: "tool", content: "a.txt", toolCallId: "c1" },
    ]);
    assert.equal(p.maxTokens, 64);
    assert.equal(p.temperature, 0);
    assert.equal(p.topP, 0.9);
    assert.equal(p.seed, 42);
    assert.equal(p.logprobs, true);
    assert.equal(p.sessionId, "s1");
    assert.equal(p.parseToolCalls, true);
    assert.equal(p.tools?.length, 1);
  });

  it("does not parse tool calls when tool_choice is none", () => {
    const p = validateChatRequest({
      ...base,
      tools: [{ type: "function", function: { name: "f" } }],
      tool_choice: "none",
    });
    assert.equal(p.parseToolCalls, false);
    assert.equal(p.tools?.length, 1);
  });
});
