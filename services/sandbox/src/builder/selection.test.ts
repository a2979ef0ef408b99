import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TestStatus } from "../grading/index.js";
import { classifyTests, FailureSetDeduper, identicalStatuses, keepVerdict, stableStatuses } from "./selection.js";

const m = (entries: Record<string, TestStatus>): Map<string, TestStatus> => new Map(Object.entries(entries));

function passing(n: number, prefix = "t/a.js::p"): Record<string, TestStatus> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, "PASSED" as TestStatus]));
}

void describe("keep rules", () => {
  void test("stable statuses drop tests that vary or are missing in some run", () => {
    const stable = stableStatuses([
      m({ a: "PASSED", b: "PASSED", c: "FAILED", d: "PASSED" }),
      m({ a: "PASSED", b: "FAILED", c: "FAILED", d: "PASSED" }),
      m({ a: "PASSED", b: "PASSED", c: "FAILED" }),
    ]);
    assert.deepEqual(
      [...stable],
      [
        ["a", "PASSED"],
        ["c", "FAILED"],
      ],
    );
    assert.equal(stableStatuses([]).size, 0);
  });

  void test("identical runs need the same ids and statuses", () => {
    assert.equal(identicalStatuses(m({ a: "PASSED" }), m({ a: "PASSED" })), true);
    assert.equal(identicalStatuses(m({ a: "PASSED" }), m({ a: "FAILED" })), false);
    assert.equal(identicalStatuses(m({ a: "PASSED" }), m({ a: "PASSED", b: "PASSED" })), false);
  });

  void test("classifies failing, erroring and missing tests as FAIL_TO_PASS and ignores skips and baseline failures", () => {
    const fixed = m({ f1: "PASSED", f2: "PASSED", f3: "PASSED", s: "PASSED", p: "PASSED", x: "XFAIL", bad: "FAILED" });
    const broken = m({ f1: "FAILED", f2: "ERROR", s: "SKIPPED", p: "PASSED", x: "XFAIL", bad: "FAILED" });
    assert.deepEqual(classifyTests(fixed, broken), { failToPass: ["f1", "f2", "f3"], passToPass: ["p", "x"] });
  });

  void test("keeps 1..20 failing tests with at least 10 still passing", () => {
    const lists = (f: number, p: number) => ({
      failToPass: Object.keys(passing(f, "f")),
      passToPass: Object.keys(passing(p, "p")),
    });
    assert.deepEqual(keepVerdict(lists(1, 10)), { keep: true });
    assert.deepEqual(keepVerdict(lists(20, 10)), { keep: true });
    assert.match((keepVerdict(lists(0, 50)) as { reason: string }).reason, /no test fails/);
    assert.match((keepVerdict(lists(21, 50)) as { reason: string }).reason, /too many/);
    assert.match((keepVerdict(lists(3, 9)) as { reason: string }).reason, /too few/);
  });

  void test("dedupes bugs by their failing-test set, whatever the order of ids", () => {
    const d = new FailureSetDeduper();
    assert.equal(d.claim(["b", "a"]), true);
    assert.equal(d.claim(["a", "b"]), false);
    assert.equal(d.claim(["a"]), true);
  });
});
