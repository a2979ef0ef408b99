import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTap } from "./tap-parser.js";

// Real tape 5.10.2 output (node tape/bin/tape <file>, stdout), stack lines trimmed. The test
// file: 'outer block' with a nested t.test 'inner block' that fails, assertion-level skips, a
// whole skipped test, a todo test, a todo assertion, an empty test and a repeated name. Exit 1.
const MIXED = `TAP version 13
# outer block
ok 1 first
# inner block
not ok 2 one is two
  ---
    operator: equal
    expected: 2
    actual:   1
    at: Test.<anonymous> (/tmp/gradetap/a2.js:5:8)
    stack: |-
      Error: one is two
  ...
# skipped asserts
ok 3 really skipped # SKIP
ok 4 explicit skip # SKIP
# SKIP skip whole
# TODO todo stuff
not ok 5 todo failing # TODO
  ---
    operator: ok
    expected: true
    actual:   false
    at: Test.<anonymous> (/tmp/gradetap/a2.js:16:53)
  ...
# todo assert
not ok 6 todo assert fails # TODO
  ---
    operator: ok
    expected: true
    actual:   false
    at: Test.<anonymous> (/tmp/gradetap/a2.js:17:38)
  ...
ok 7 fine
# empty block
# outer block
not ok 8 dup name
  ---
    operator: deepEqual
    expected: |-
      { a: 2 }
    actual: |-
      { a: 1 }
    at: Test.<anonymous> (/tmp/gradetap/a2.js:19:38)
  ...

1..8
# tests 8
# pass  6
# fail  2
`;

// qs 6.13.0 test/parse.js under tape (exit 0), cut to its first block, the repeated block
// name it really has, and the end. Plan and summary adjusted to the kept assertions.
const QS_EXCERPT = `TAP version 13
# parse()
ok 1 parses a single nested string
ok 2 parses a double nested string
# skips empty string key with =a&foo=b
ok 3 should be deeply equivalent
# skips empty string key with a[]=b&a=c&=
ok 4 should be deeply equivalent
# skips empty string key with a[]=b&a=c&=
ok 5 should be deeply equivalent
# allows for decoding keys and values
ok 6 should not throw

1..6
# tests 6
# pass  6

# ok
`;

function byId(output: string, label = "test/parse.js"): Map<string, { status: string; failureMessages: string[] }> {
  return new Map(parseTap(output, label).tests.map((t) => [t.id, t]));
}

void describe("parseTap on real tape output", () => {
  void test("groups assertions per block, nested blocks included, in order", () => {
    const r = parseTap(MIXED, "test/a.js");
    assert.deepEqual(
      r.tests.map((t) => [t.id, t.status]),
      [
        ["test/a.js::outer block", "PASSED"],
        ["test/a.js::inner block", "FAILED"],
        ["test/a.js::skipped asserts", "SKIPPED"],
        ["test/a.js::skip whole", "SKIPPED"],
        ["test/a.js::todo stuff", "PASSED"],
        ["test/a.js::todo assert", "PASSED"],
        ["test/a.js::empty block", "PASSED"],
        ["test/a.js::outer block (2)", "FAILED"],
      ],
    );
    assert.deepEqual(r.problems, []);
  });

  void test("counts assertions and reads the plan and the summary, which are not blocks", () => {
    const r = parseTap(MIXED, "test/a.js");
    assert.deepEqual(r.assertions, { ok: 4, notOk: 4, failed: 2, skipped: 2, todo: 2 });
    assert.equal(r.plan?.count, 8);
    assert.deepEqual(r.summary, { tests: 8, pass: 6, fail: 2 });
    assert.equal(r.sawTap, true);
    assert.equal(r.bailOut, undefined);
  });

  void test("attaches the YAML diagnostics to the failing assertion", () => {
    const inner = byId(MIXED, "test/a.js").get("test/a.js::inner block");
    assert.equal(inner?.failureMessages.length, 1);
    const message = inner?.failureMessages[0] ?? "";
    assert.match(message, /^not ok 2 one is two\n {2}---\n/);
    assert.match(message, /expected: 2\n {4}actual: {3}1/);
    assert.match(message, / {2}\.\.\.$/);
    // TODO failures are not failures, so their diagnostics are not kept.
    assert.deepEqual(byId(MIXED, "test/a.js").get("test/a.js::todo assert")?.failureMessages, []);
  });

  void test("suffixes a block name repeated within one file", () => {
    const ids = [...byId(QS_EXCERPT).keys()];
    assert.deepEqual(ids, [
      "test/parse.js::parse()",
      "test/parse.js::skips empty string key with =a&foo=b",
      "test/parse.js::skips empty string key with a[]=b&a=c&=",
      "test/parse.js::skips empty string key with a[]=b&a=c&= (2)",
      "test/parse.js::allows for decoding keys and values",
    ]);
    // "skips …" in a name is not tape's "SKIP " marker.
    assert.ok([...byId(QS_EXCERPT).values()].every((t) => t.status === "PASSED"));
    assert.deepEqual(parseTap(QS_EXCERPT, "test/parse.js").summary, { tests: 6, pass: 6, ok: true });
  });

  void test("keeps the tests before a crash and has no plan when the process died", () => {
    // tape output of a file whose second test throws (exit 1; the stack went to stderr).
    const r = parseTap("TAP version 13\n# first\nok 1 works\n# crashes\n", "t.js");
    assert.deepEqual(
      r.tests.map((t) => [t.id, t.status]),
      [
        ["t.js::first", "PASSED"],
        ["t.js::crashes", "PASSED"],
      ],
    );
    assert.equal(r.plan, undefined);
    assert.equal(r.summary, undefined);
  });

  void test("records Bail out! and stops reading", () => {
    const r = parseTap(
      "TAP version 13\n# before\nok 1 fine\n# explicit bail\nBail out! database down\nok 2 late\n",
      "t.js",
    );
    assert.equal(r.bailOut, "database down");
    assert.equal(r.assertions.ok, 1);
    assert.equal(r.tests.length, 2);
  });
});

void describe("parseTap edge cases", () => {
  void test("ignores the program's own output and reads CRLF", () => {
    const r = parseTap(
      "TAP version 13\r\n# a\r\nloading fixtures...\r\nok 1 x\r\n\r\n1..1\r\n# tests 1\r\n# pass  1\r\n",
      "f",
    );
    assert.deepEqual(
      r.tests.map((t) => [t.id, t.status]),
      [["f::a", "PASSED"]],
    );
    assert.deepEqual(r.problems, []);
  });

  void test("lists out-of-sequence numbers, assertions after the plan and a second plan", () => {
    const r = parseTap("# a\nok 2 injected\nok 1 real\n1..2\nok 3 late\n1..3\n# something\n", "f");
    assert.deepEqual(r.problems, [
      "line 2: assertion numbered 2, expected 1",
      "line 3: assertion numbered 1, expected 3",
      "line 5: assertion after the plan: ok 3 late",
      "line 5: assertion numbered 3, expected 2",
      "line 6: second plan 1..3",
      "line 7: unexpected comment after the plan: # something",
    ]);
  });

  void test("a leading plan opens the run and later comments are blocks", () => {
    const r = parseTap("1..2\n# a\nok 1\n# b\nnot ok 2 - broke\n", "f");
    assert.deepEqual(
      r.tests.map((t) => [t.id, t.status]),
      [
        ["f::a", "PASSED"],
        ["f::b", "FAILED"],
      ],
    );
    assert.deepEqual(r.problems, []);
  });

  void test("assertions before any block go to a placeholder block; an empty output has no TAP", () => {
    assert.equal(parseTap("ok 1 x\n1..1\n", "f").tests[0]?.id, "f::(no block)");
    const none = parseTap("Error: Cannot find module 'tape'\n", "f");
    assert.equal(none.sawTap, false);
    assert.deepEqual(none.tests, []);
  });

  void test("a not ok with a SKIP directive is skipped, not failed", () => {
    const r = parseTap("# a\nnot ok 1 # SKIP no network\n1..1\n", "f");
    assert.equal(r.tests[0]?.status, "SKIPPED");
    assert.deepEqual(r.assertions, { ok: 0, notOk: 1, failed: 0, skipped: 1, todo: 0 });
  });

  void test("caps long diagnostics", () => {
    const yaml = Array.from({ length: 500 }, (_, i) => `    line ${i}: ${"x".repeat(20)}`).join("\n");
    const r = parseTap(`# a\nnot ok 1 big\n  ---\n${yaml}\n  ...\n1..1\n`, "f");
    const message = r.tests[0]?.failureMessages[0] ?? "";
    assert.ok(message.length < 4100, `message is ${message.length} chars`);
    assert.match(message, /more characters\]$/);
  });
});
