// The keep rules, as pure functions over status maps: which tests a candidate breaks, whether
// its runs were stable, whether it makes a task worth shipping, and whether it is a duplicate.
import type { TestStatus } from "../grading/index.js";

export type StatusMap = ReadonlyMap<string, TestStatus>;

export interface KeepRules {
  minFailToPass: number;
  maxFailToPass: number;
  minPassToPass: number;
}

export const DEFAULT_KEEP_RULES: KeepRules = { minFailToPass: 1, maxFailToPass: 20, minPassToPass: 10 };

export function isPassing(status: TestStatus | undefined): boolean {
  return status === "PASSED" || status === "XFAIL";
}

/** Tests with the same status in every run; a test that varies is flaky and never graded. */
export function stableStatuses(runs: readonly StatusMap[]): Map<string, TestStatus> {
  const out = new Map<string, TestStatus>();
  const [first, ...rest] = runs;
  if (first === undefined) return out;
  for (const [id, status] of first) {
    if (rest.every((r) => r.get(id) === status)) out.set(id, status);
  }
  return out;
}

/** Same ids with the same statuses. */
export function identicalStatuses(a: StatusMap, b: StatusMap): boolean {
  if (a.size !== b.size) return false;
  for (const [id, status] of a) if (b.get(id) !== status) return false;
  return true;
}

export interface TestLists {
  failToPass: string[];
  passToPass: string[];
}

/**
 * Splits the tests that pass in the fixed state (`fixed`, already reduced to its stable
 * tests) by their outcome in the broken state: failing, erroring or missing there makes a
 * FAIL_TO_PASS test (missing is how SWE-bench grades it too), passing a PASS_TO_PASS one.
 * A test skipped in the broken state proves nothing either way and is left out.
 */
export function classifyTests(fixed: StatusMap, broken: StatusMap): TestLists {
  const failToPass: string[] = [];
  const passToPass: string[] = [];
  for (const [id, status] of fixed) {
    if (!isPassing(status)) continue;
    const after = broken.get(id);
    if (isPassing(after)) passToPass.push(id);
    else if (after === undefined || after === "FAILED" || after === "ERROR") failToPass.push(id);
  }
  return { failToPass: failToPass.sort(), passToPass: passToPass.sort() };
}

export type Verdict = { keep: true } | { keep: false; reason: string };

export function keepVerdict(lists: TestLists, rules: KeepRules = DEFAULT_KEEP_RULES): Verdict {
  const f = lists.failToPass.length;
  const p = lists.passToPass.length;
  if (f < rules.minFailToPass)
    return { keep: false, reason: `no test fails (FAIL_TO_PASS ${f} < ${rules.minFailToPass})` };
  if (f > rules.maxFailToPass)
    return { keep: false, reason: `too many tests fail (FAIL_TO_PASS ${f} > ${rules.maxFailToPass})` };
  if (p < rules.minPassToPass)
    return { keep: false, reason: `too few tests still pass (PASS_TO_PASS ${p} < ${rules.minPassToPass})` };
  return { keep: true };
}

/** Two bugs that break exactly the same tests are one task to a learner: keep the first. */
export class FailureSetDeduper {
  private readonly seen = new Set<string>();

  static key(failToPass: readonly string[]): string {
    return JSON.stringify([...failToPass].sort());
  }

  /** True the first time a failing set is offered, false for every repeat. */
  claim(failToPass: readonly string[]): boolean {
    const key = FailureSetDeduper.key(failToPass);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}
