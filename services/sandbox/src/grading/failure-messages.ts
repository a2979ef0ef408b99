import type { SweBenchReport } from "./swebench-grading.js";

/** Failing tests whose messages travel in a report, and the characters kept per test. */
const MAX_TESTS = 16;
const MAX_CHARS_PER_TEST = 1_000;

/**
 * `failure_messages` for a report: the assertion messages / error output of the tests the
 * patch left failing (FAIL_TO_PASS and PASS_TO_PASS failures), bounded. Agent-RLVR's
 * environment-feedback guidance shows them to a re-attempt; SWE-bench readers ignore the key.
 */
export function reportFailureMessages(
  report: SweBenchReport,
  messages: ReadonlyMap<string, readonly string[]> | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!messages) return out;
  const failing = [...report.tests_status.FAIL_TO_PASS.failure, ...report.tests_status.PASS_TO_PASS.failure];
  for (const id of failing.slice(0, MAX_TESTS)) {
    const m = messages.get(id);
    if (!m?.length) continue;
    let budget = MAX_CHARS_PER_TEST;
    const kept: string[] = [];
    for (const line of m) {
      if (budget <= 0) break;
      kept.push(line.slice(0, budget));
      budget -= line.length;
    }
    out[id] = kept;
  }
  return out;
}
