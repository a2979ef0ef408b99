import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reportFailureMessages } from "./failure-messages.js";
import type { SweBenchReport } from "./swebench-grading.js";

const sf = (failure: string[]) => ({ success: [], failure });

function report(f2p: string[], p2p: string[]): SweBenchReport {
  return {
    patch_is_None: false,
    patch_exists: true,
    patch_successfully_applied: true,
    resolved: false,
    tests_status: { FAIL_TO_PASS: sf(f2p), PASS_TO_PASS: sf(p2p), FAIL_TO_FAIL: sf([]), PASS_TO_FAIL: sf([]) },
    outcome_level: "TESTS_FAIL",
    grading_problems: [],
    infrastructure_error: false,
  };
}

void describe("reportFailureMessages", () => {
  void it("keeps the messages of the failing FAIL_TO_PASS and PASS_TO_PASS tests only, bounded", () => {
    const messages = new Map([
      ["a::x", ["expected 1, got 2"]],
      ["b::y", ["x".repeat(5_000), "never reached"]],
      ["c::passing", ["ignored"]],
    ]);
    const out = reportFailureMessages(report(["a::x"], ["b::y"]), messages);
    assert.deepEqual(Object.keys(out), ["a::x", "b::y"]);
    assert.deepEqual(out["a::x"], ["expected 1, got 2"]);
    assert.equal(out["b::y"]!.join("").length, 1_000);
  });

  void it("is empty when the tests did not run", () => {
    assert.deepEqual(reportFailureMessages(report(["a::x"], []), undefined), {});
  });
});
