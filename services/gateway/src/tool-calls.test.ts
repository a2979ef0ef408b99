import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseToolCalls } from "./tool-calls.js";

const ids = (): (() => string) => {
  let n = 0;
  return () => `call_${n++}`;
};

describe("parseToolCalls", () => {
  it("extracts Hermes tool call blocks with arguments as a JSON string", () => {
    const text = 'Let me look.\n<tool_call>\n{"name": "bash", "arguments": {"cmd": "ls -la"}}\n</tool_call>';
    const out = parseToolCalls(text, ids());
    assert.equal(out.content, "Let me look.");
    assert.deepEqual(out.errors, []);
    assert.deepEqual(out.toolCalls, [
      { id: "call_0", type: "function", function: { name: "bash", arguments: '{"cmd":"ls -la"}' } },
    ]);
  });

  it("extracts several calls and keeps the text between them", () => {
    const text =
      '<tool_call>{"name":"a","arguments":{}}</tool_call> and <tool_call>{"name":"b","arguments":{"x":1}}</tool_call>';
    const out = parseToolCalls(text, ids());
    assert.deepEqual(
      out.toolCalls.map((c) => [c.id, c.function.name, c.function.arguments]),
      [
        ["call_0", "a", "{}"],
        ["call_1", "b", '{"x":1}'],
      ],
    );
    assert.equal(out.content, "and");
  });

  it("returns plain text unchanged when there are no blocks", () => {
    const out = parseToolCalls("  just text  ", ids());
    assert.equal(out.content, "just text");
    assert.equal(out.toolCalls.length, 0);
    assert.equal(out.errors.length, 0);
  });

  it("keeps malformed JSON as content and reports it", () => {
    const text = 'before <tool_call>{"name": "bash", "arguments": {cmd: ls}}</tool_call> after';
    const out = parseToolCalls(text, ids());
    assert.equal(out.toolCalls.length, 0);
    assert.equal(out.content, text);
    assert.equal(out.errors.length, 1);
    assert.match(out.errors[0]?.error ?? "", /invalid JSON/);
    assert.equal(out.errors[0]?.raw, '{"name": "bash", "arguments": {cmd: ls}}');
  });

  it("reports a block without a name and one cut off by max_tokens", () => {
    const out = parseToolCalls('<tool_call>{"arguments": {}}</tool_call><tool_call>{"name": "x", "argu', ids());
    assert.equal(out.toolCalls.length, 0);
    assert.deepEqual(
      out.errors.map((e) => e.error),
      ['missing string field "name"', "unterminated <tool_call> block"],
    );
  });

  it("accepts arguments already serialised as a JSON string and rejects non-JSON strings", () => {
    const good = parseToolCalls('<tool_call>{"name": "f", "arguments": "{\\"a\\": 2}"}</tool_call>', ids());
    assert.equal(good.toolCalls[0]?.function.arguments, '{"a": 2}');
    const bad = parseToolCalls('<tool_call>{"name": "f", "arguments": "nope"}</tool_call>', ids());
    assert.equal(bad.toolCalls.length, 0);
    assert.equal(bad.errors.length, 1);
  });

  it("keeps valid calls when another block is malformed", () => {
    const out = parseToolCalls('<tool_call>{"name":"ok","arguments":{}}</tool_call><tool_call>[1]</tool_call>', ids());
    assert.equal(out.toolCalls.length, 1);
    assert.equal(out.errors.length, 1);
    assert.equal(out.content, "<tool_call>[1]</tool_call>");
  });
});
