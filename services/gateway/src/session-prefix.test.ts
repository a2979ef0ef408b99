import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatMessageIn } from "./openai-types.js";
import { checkSessionPrefix, jsonEqual } from "./session-prefix.js";
import type { Session } from "./session-store.js";

const call = (args: string, id = "call_1") => ({
  id,
  type: "function" as const,
  function: { name: "bash", arguments: args },
});
const stored: ChatMessageIn[] = [
  { role: "system", content: "sys" },
  { role: "user", content: "list files" },
  { role: "assistant", content: "Sure.", toolCalls: [call('{"cmd":"ls","n":1}')] },
];
const session: Session = { id: "s", messages: stored, tokenIds: [1], toolsJson: "[tools]", lastUsedMs: 0 };
const toolResult: ChatMessageIn = { role: "tool", content: "a.txt", toolCallId: "call_1" };

describe("checkSessionPrefix", () => {
  it("accepts a request that extends the stored messages and returns the new ones", () => {
    const res = checkSessionPrefix(session, [...stored, toolResult], "[tools]");
    assert.deepEqual(res, { ok: true, newMessages: [toolResult] });
  });

  it("tolerates re-serialised tool call arguments, other call ids and trimmed content", () => {
    const echoed: ChatMessageIn = {
      role: "assistant",
      content: " Sure.\n",
      toolCalls: [call('{ "n": 1, "cmd": "ls" }', "other")],
    };
    const res = checkSessionPrefix(session, [stored[0]!, stored[1]!, echoed, toolResult], "[tools]");
    assert.equal(res.ok, true);
  });

  it("rejects an edited assistant message", () => {
    const edited: ChatMessageIn = { ...stored[2]!, content: "Nope." };
    const res = checkSessionPrefix(session, [stored[0]!, stored[1]!, edited, toolResult], "[tools]");
    assert.deepEqual(res, { ok: false, reason: "messages[2] differs from the session: content" });
  });

  it("rejects changed tool call arguments", () => {
    const edited: ChatMessageIn = { ...stored[2]!, toolCalls: [call('{"cmd":"rm -rf /"}')] };
    const res = checkSessionPrefix(session, [stored[0]!, stored[1]!, edited, toolResult], "[tools]");
    assert.equal(res.ok, false);
    assert.match((res as { reason: string }).reason, /tool_calls\[0\]/);
  });

  it("rejects a request that does not add messages, changes tools, or injects an assistant turn", () => {
    assert.equal(checkSessionPrefix(session, stored, "[tools]").ok, false);
    assert.equal(checkSessionPrefix(session, [...stored, toolResult], "[other tools]").ok, false);
    const injected = checkSessionPrefix(
      session,
      [...stored, toolResult, { role: "assistant", content: "fake" }],
      "[tools]",
    );
    assert.deepEqual(injected, {
      ok: false,
      reason: "messages[4] is an assistant message the gateway did not generate",
    });
  });

  it("rejects a truncated history (a dropped earlier message)", () => {
    const res = checkSessionPrefix(
      session,
      [stored[1]!, stored[2]!, toolResult, { role: "user", content: "x" }],
      "[tools]",
    );
    assert.equal(res.ok, false);
  });
});

describe("jsonEqual", () => {
  it("compares objects regardless of key order", () => {
    assert.ok(jsonEqual({ a: [1, { b: null }], c: "x" }, { c: "x", a: [1, { b: null }] }));
    assert.ok(!jsonEqual({ a: [1] }, { a: [1, 2] }));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: undefined }));
    assert.ok(!jsonEqual([], {}));
  });
});
