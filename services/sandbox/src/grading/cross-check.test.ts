import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crossCheck, type CrossCheckInput } from "./cross-check.js";
import { parseJunit } from "./junit-parser.js";
import { parseTap } from "./tap-parser.js";

// Real tape 5.10.2 runs (stdout) with their exit status.
const PASSING = "TAP version 13\n# parse()\nok 1 parses\nok 2 more\n\n1..2\n# tests 2\n# pass  2\n\n# ok\n";
const FAILING = `TAP version 13
# fails
not ok 1 nope
  ---
    operator: equal
    expected: 2
    actual:   1
  ...

1..1
# tests 1
# pass  0
# fail  1
`;
// A test whose code under test does console.log('ok 2 injected') before a failing assertion.
const INJECTED = `TAP version 13
# real
ok 2 injected
not ok 1 nope
  ---
    operator: equal
  ...

1..1
# tests 1
# pass  0
# fail  1
`;
// The second of three tests threw: tape stops, stderr has the stack, exit 1.
const CRASHED = "TAP version 13\n# first\nok 1 works\n# crashes\n";

function check(output: string, run: Partial<CrossCheckInput> = {}): ReturnType<typeof crossCheck> {
  return crossCheck({ exitCode: 0, timedOut: false, signal: "", parsed: parseTap(output, "t.js"), ...run });
}

const statuses = (r: ReturnType<typeof crossCheck>): [string, string][] => r.tests.map((t) => [t.id, t.status]);

void describe("crossCheck on TAP", () => {
  void test("accepts output that agrees with its exit status", () => {
    const ok = check(PASSING);
    assert.equal(ok.consistent, true);
    assert.deepEqual(ok.problems, []);
    const failing = check(FAILING, { exitCode: 1 });
    assert.equal(failing.consistent, true);
    assert.deepEqual(statuses(failing), [["t.js::fails", "FAILED"]]);
  });

  void test("a program printing passing TAP but exiting 1 fails every test", () => {
    const r = check(PASSING, { exitCode: 1 });
    assert.equal(r.consistent, false);
    assert.deepEqual(r.problems, ["exit status 1 but no test failed"]);
    assert.deepEqual(statuses(r), [["t.js::parse()", "FAILED"]]);
    assert.match(r.tests[0]?.failureMessages.at(-1) ?? "", /^inconsistent test output: exit status 1/);
  });

  void test("exit 0 with a failing assertion is inconsistent", () => {
    const r = check(FAILING, { exitCode: 0 });
    assert.equal(r.consistent, false);
    assert.deepEqual(r.problems, ["exit status 0 but tests failed"]);
  });

  void test("injected ok lines break numbering, plan and summary", () => {
    const r = check(INJECTED, { exitCode: 1 });
    assert.equal(r.consistent, false);
    assert.deepEqual(r.problems, [
      "plan 1..1 but 2 assertions",
      "summary says tests 1 but the output has 2",
      "summary says pass 0 but the output has 1",
      "line 3: assertion numbered 2, expected 1",
      "line 4: assertion numbered 1, expected 3",
    ]);
  });

  void test("a forged summary is caught even when exit status and plan agree", () => {
    const forged = "TAP version 13\n# a\nok 1 x\nnot ok 2 y\n\n1..2\n# tests 2\n# pass  2\n\n# ok\n";
    const r = check(forged, { exitCode: 1 });
    assert.deepEqual(r.problems, [
      "summary says pass 2 but the output has 1",
      "summary says fail 0 but the output has 1",
      "summary says ok but 1 assertions failed",
    ]);
  });

  void test("a crash mid-file leaves no plan: the earlier passing tests fail too", () => {
    const r = check(CRASHED, { exitCode: 1 });
    assert.deepEqual(r.problems, ["no plan: the output is incomplete", "exit status 1 but no test failed"]);
    assert.deepEqual(statuses(r), [
      ["t.js::first", "FAILED"],
      ["t.js::crashes", "FAILED"],
    ]);
  });

  void test("a timeout or a signal makes the tests ERROR", () => {
    const timedOut = check(CRASHED, { exitCode: -1, timedOut: true, signal: "SIGKILL" });
    assert.deepEqual(timedOut.problems, ["no plan: the output is incomplete", "timed out"]);
    assert.deepEqual(statuses(timedOut), [
      ["t.js::first", "ERROR"],
      ["t.js::crashes", "ERROR"],
    ]);
    const killed = check(PASSING, { exitCode: -1, signal: "SIGSEGV" });
    assert.deepEqual(killed.problems, ["killed by SIGSEGV"]);
    assert.equal(killed.tests[0]?.status, "ERROR");
  });

  void test("no TAP at all, bail out and truncated output are inconsistent", () => {
    const none = check("Error: Cannot find module 'tape'\n", { exitCode: 1 });
    assert.deepEqual(none.problems, ["no TAP output", "exit status 1 but no test failed"]);
    assert.deepEqual(none.tests, []);
    const bailed = check("TAP version 13\n# a\nok 1 x\nBail out! db down\n", { exitCode: 1 });
    assert.ok(bailed.problems.includes("bailed out: db down"));
    assert.equal(bailed.tests[0]?.status, "FAILED");
    const cut = check(PASSING, { outputTruncated: true });
    assert.deepEqual(cut.problems, ["output truncated at the runner's cap"]);
  });
});

void describe("crossCheck on JUnit", () => {
  const report = (failures: number, body: string): string =>
    `<?xml version="1.0"?>\n<testsuite name="s" tests="2" failures="${failures}" errors="0">${body}</testsuite>\n`;

  void test("agrees when declared counts, testcases and exit status match", () => {
    const xml = report(1, '<testcase classname="a" name="x"/><testcase classname="a" name="y"><failure/></testcase>');
    const r = crossCheck({ exitCode: 1, timedOut: false, parsed: parseJunit(xml) });
    assert.equal(r.consistent, true);
  });

  void test("declared counts that disagree with the testcases are inconsistent", () => {
    const xml = report(0, '<testcase classname="a" name="x"/><testcase classname="a" name="y"/><testcase name="z"/>');
    const r = crossCheck({ exitCode: 0, timedOut: false, parsed: parseJunit(xml) });
    assert.deepEqual(r.problems, ["report declares tests=2 but its testcases give 3"]);
    assert.ok(r.tests.every((t) => t.status === "FAILED"));
  });

  void test("a missing report or an exit status that disagrees is inconsistent", () => {
    assert.deepEqual(crossCheck({ exitCode: 2, timedOut: false, parsed: parseJunit("boom") }).problems, [
      "no JUnit report in the output",
      "exit status 2 but no test failed",
    ]);
    const xml = report(1, '<testcase classname="a" name="x"/><testcase classname="a" name="y"><failure/></testcase>');
    assert.deepEqual(crossCheck({ exitCode: 0, timedOut: false, parsed: parseJunit(xml) }).problems, [
      "exit status 0 but tests failed",
    ]);
  });
});
