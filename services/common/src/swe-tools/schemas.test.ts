import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EDITOR_COMMANDS, SWE_TOOL_SCHEMAS, canonicalToolName } from "./index.js";

void describe("SWE tool schemas", () => {
  void test("offers bash, str_replace_editor and submit as OpenAI function tools", () => {
    assert.deepEqual(
      SWE_TOOL_SCHEMAS.map((t) => [t.type, t.function.name]),
      [
        ["function", "bash"],
        ["function", "str_replace_editor"],
        ["function", "submit"],
      ],
    );
    for (const t of SWE_TOOL_SCHEMAS) {
      assert.ok(t.function.description.length > 20, t.function.name);
      for (const req of t.function.parameters.required)
        assert.ok(req in t.function.parameters.properties, `${t.function.name}.${req}`);
    }
  });

  void test("describes the editor arguments the way SWE-agent does", () => {
    const editor = SWE_TOOL_SCHEMAS[1];
    assert.ok(editor);
    const props = editor.function.parameters.properties;
    assert.deepEqual(Object.keys(props).sort(), [
      "command",
      "file_text",
      "insert_line",
      "new_str",
      "old_str",
      "path",
      "view_range",
    ]);
    assert.deepEqual(props.command?.enum, EDITOR_COMMANDS);
    assert.equal(props.insert_line?.type, "integer");
    assert.deepEqual(props.view_range?.items, { type: "integer" });
    assert.deepEqual(editor.function.parameters.required, ["command", "path"]);
    assert.match(editor.function.description, /<response clipped>/);
    // Round-trips as JSON: it is sent to the model verbatim.
    assert.deepEqual(JSON.parse(JSON.stringify(SWE_TOOL_SCHEMAS)), SWE_TOOL_SCHEMAS);
  });

  void test("maps OpenHands aliases to canonical names and rejects the rest", () => {
    assert.equal(canonicalToolName("bash"), "bash");
    assert.equal(canonicalToolName("execute_bash"), "bash");
    assert.equal(canonicalToolName("file_editor"), "str_replace_editor");
    assert.equal(canonicalToolName("str_replace_editor"), "str_replace_editor");
    assert.equal(canonicalToolName("finish"), "submit");
    assert.equal(canonicalToolName("submit"), "submit");
    assert.equal(canonicalToolName("python"), undefined);
    assert.equal(canonicalToolName("toString"), undefined);
    assert.equal(canonicalToolName(""), undefined);
  });
});
