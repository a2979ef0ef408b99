import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseToolCall, toolSignature, type ParsedToolCall } from "./tool-call.js";

function invalid(p: ParsedToolCall): { reason: string; message: string } {
  assert.equal(p.ok, false, JSON.stringify(p));
  if (p.ok) throw new Error("unreachable");
  return p.invalid;
}

void describe("tool call validation", () => {
  void test("accepts the three tools and their OpenHands aliases", () => {
    assert.deepEqual(parseToolCall("bash", '{"command":"ls -la"}'), {
      ok: true,
      call: { tool: "bash", command: "ls -la" },
    });
    assert.deepEqual(parseToolCall("execute_bash", '{"command":"ls","timeout":5,"security_risk":"LOW"}'), {
      ok: true,
      call: { tool: "bash", command: "ls" },
    });
    assert.deepEqual(parseToolCall("submit", ""), { ok: true, call: { tool: "submit" } });
    assert.deepEqual(parseToolCall("finish", '{"message":"done"}'), { ok: true, call: { tool: "submit" } });
    assert.deepEqual(
      parseToolCall(
        "file_editor",
        '{"command":"view","path":"/workspace/a.py","view_range":[3,-1],"file_text":null,"insert_line":null}',
      ),
      { ok: true, call: { tool: "str_replace_editor", command: "view", path: "/workspace/a.py", viewRange: [3, -1] } },
    );
    assert.deepEqual(
      parseToolCall("str_replace_editor", '{"command":"insert","path":"/workspace/a","insert_line":0,"new_str":"x"}'),
      {
        ok: true,
        call: { tool: "str_replace_editor", command: "insert", path: "/workspace/a", insertLine: 0, newStr: "x" },
      },
    );
  });

  void test("an unknown tool lists the available ones", () => {
    const bad = invalid(parseToolCall("python", '{"code":"1"}'));
    assert.equal(bad.reason, 'unknown tool "python"');
    assert.equal(bad.message, 'Unknown tool "python". The available tools are: bash, str_replace_editor, submit.');
  });

  void test("arguments that are not JSON quote the parse error and the text", () => {
    const bad = invalid(parseToolCall("bash", "{command: ls}"));
    assert.equal(bad.reason, "arguments are not valid JSON");
    assert.match(
      bad.message,
      /^The arguments of the bash call are not valid JSON \(.*JSON.*\)\. They were: \{command: ls\}/,
    );
    assert.match(bad.message, /Expected arguments: bash\(command: string\)$/);
    const long = invalid(parseToolCall("bash", `{"command": "${"x".repeat(5000)}`));
    assert.ok(long.message.length < 700, "a huge argument is not echoed whole");
    assert.match(invalid(parseToolCall("bash", '["ls"]')).message, /must be a JSON object, got an array/);
  });

  void test("a missing or mistyped argument names it and shows the expected schema", () => {
    const missing = invalid(parseToolCall("bash", "{}"));
    assert.equal(missing.reason, "missing argument command for bash");
    assert.equal(
      missing.message,
      "Missing required argument `command` for tool bash. Expected arguments: bash(command: string)",
    );
    const typed = invalid(parseToolCall("bash", '{"command":["ls"]}'));
    assert.match(typed.message, /^Argument `command` of tool bash must be a string, got an array \(\["ls"\]\)/);
    const line = invalid(
      parseToolCall("str_replace_editor", '{"command":"insert","path":"/workspace/a","insert_line":"3","new_str":"x"}'),
    );
    assert.equal(line.reason, "argument insert_line of str_replace_editor is not an integer");
    assert.match(line.message, /must be an integer, got a string \("3"\)/);
    assert.ok(line.message.includes(toolSignature("str_replace_editor")));
    assert.match(
      invalid(parseToolCall("str_replace_editor", '{"command":"insert","path":"/w","insert_line":1.5,"new_str":"x"}'))
        .message,
      /a non-integer number \(1\.5\)/,
    );
    assert.match(invalid(parseToolCall("str_replace_editor", '{"command":"view"}')).message, /`path`/);
  });

  void test("per-command parameters are required as SWE-agent requires them", () => {
    const cases: Array<[string, string]> = [
      ['{"command":"create","path":"/workspace/a"}', "Parameter `file_text` is required for command: create"],
      ['{"command":"str_replace","path":"/workspace/a"}', "Parameter `old_str` is required for command: str_replace"],
      [
        '{"command":"insert","path":"/workspace/a","new_str":"x"}',
        "Parameter `insert_line` is required for command: insert",
      ],
      [
        '{"command":"insert","path":"/workspace/a","insert_line":1}',
        "Parameter `new_str` is required for command: insert",
      ],
    ];
    for (const [args, message] of cases)
      assert.ok(invalid(parseToolCall("str_replace_editor", args)).message.startsWith(message), args);
  });

  void test("an unknown editor command lists the allowed ones", () => {
    const bad = invalid(parseToolCall("str_replace_editor", '{"command":"delete","path":"/workspace/a"}'));
    assert.equal(bad.reason, 'unknown str_replace_editor command "delete"');
    assert.equal(
      bad.message,
      'Unrecognized command delete. The allowed commands for the str_replace_editor tool are: "view", "create", "str_replace", "insert", "undo_edit"',
    );
  });

  void test("view_range must be two integers", () => {
    for (const r of ["[1]", "[1,2,3]", '["1","2"]', "5"]) {
      const bad = invalid(
        parseToolCall("str_replace_editor", `{"command":"view","path":"/workspace/a","view_range":${r}}`),
      );
      assert.match(bad.message, /^Invalid `view_range`: .*It should be a list of two integers/, r);
    }
  });

  void test("the signature shown to the model comes from the schema", () => {
    assert.equal(
      toolSignature("str_replace_editor"),
      'str_replace_editor(command: "view" | "create" | "str_replace" | "insert" | "undo_edit", path: string, file_text?: string, old_str?: string, new_str?: string, insert_line?: integer, view_range?: [integer, integer])',
    );
    assert.equal(toolSignature("submit"), "submit()");
  });
});
