import type { TestStatus } from "./test-status.js";

/**
 * SWE-bench v5 grading rules (swebench/harness/grading.py, PASS_AND_FAIL):
 * - a test passes when PASSED or XFAIL;
 * - a FAIL_TO_PASS test succeeds only when it passes (FAILED, ERROR, SKIPPED or missing fail);
 * - a PASS_TO_PASS test fails only when FAILED, ERROR or missing (SKIPPED is kept as success);
 * - resolved when every FAIL_TO_PASS and PASS_TO_PASS test succeeds.
 * Under these rules every listed test lands in exactly one of success / failure.
 * FAIL_TO_FAIL and PASS_TO_FAIL are not computed (upstream's calculate_to_fail=False): empty.
 *
 * One Sluice rule on top: a task without FAIL_TO_PASS tests is never resolved (upstream counts
 * it as resolved), since then every patch, even a no-op, would score.
 */
export type OutcomeLevelName = "NO_SUBMIT" | "EMPTY_PATCH" | "PATCH_APPLY_FAILED" | "TESTS_FAIL" | "RESOLVED";

export interface TestLists {
  FAIL_TO_PASS: readonly string[];
  PASS_TO_PASS: readonly string[];
}

export interface SuccessFailure {
  success: string[];
  failure: string[];
}

export interface TestsStatus {
  FAIL_TO_PASS: SuccessFailure;
  PASS_TO_PASS: SuccessFailure;
  FAIL_TO_FAIL: SuccessFailure;
  PASS_TO_FAIL: SuccessFailure;
}

/** SWE-bench's per-instance report entry plus Sluice's outcome fields. */
export interface SweBenchReport {
  patch_is_None: boolean;
  patch_exists: boolean;
  patch_successfully_applied: boolean;
  resolved: boolean;
  /** Always present; all lists empty when the tests did not run. */
  tests_status: TestsStatus;
  outcome_level: OutcomeLevelName;
  grading_problems: string[];
  /** Grading could not be done through no fault of the patch (the reason is in grading_problems). */
  infrastructure_error: boolean;
}

export interface BuildReportInput {
  instanceId: string;
  /** The task's FAIL_TO_PASS / PASS_TO_PASS. */
  failToPass: readonly string[];
  passToPass: readonly string[];
  /** False when the agent never submitted: NO_SUBMIT whatever the patch. */
  submitted: boolean;
  /** null / undefined: no patch at all (SWE-bench's patch_is_None). */
  patch: string | null | undefined;
  patchApplied: boolean;
  /** Test id → status after the cross-check; undefined when the tests did not run. */
  statuses?: ReadonlyMap<string, TestStatus>;
  /** Cross-check and runner problems, reported as they are. */
  problems: readonly string[];
  /** true, or the reason (added to grading_problems): not the patch's fault, never resolved. */
  infrastructureError?: boolean | string;
}

export interface GradeResult {
  report: SweBenchReport;
  level: OutcomeLevelName;
  resolved: boolean;
}

const passed = (s: TestStatus | undefined): boolean => s === "PASSED" || s === "XFAIL";
const maintained = (s: TestStatus | undefined): boolean => passed(s) || s === "SKIPPED";

export function gradeTests(tests: TestLists, statuses: ReadonlyMap<string, TestStatus>): TestsStatus {
  const split = (ids: readonly string[], ok: (s: TestStatus | undefined) => boolean): SuccessFailure => ({
    success: ids.filter((id) => ok(statuses.get(id))),
    failure: ids.filter((id) => !ok(statuses.get(id))),
  });
  return {
    FAIL_TO_PASS: split(tests.FAIL_TO_PASS, passed),
    PASS_TO_PASS: split(tests.PASS_TO_PASS, maintained),
    FAIL_TO_FAIL: { success: [], failure: [] },
    PASS_TO_FAIL: { success: [], failure: [] },
  };
}

export function isResolved(status: TestsStatus): boolean {
  return (
    status.FAIL_TO_PASS.success.length > 0 &&
    status.FAIL_TO_PASS.failure.length === 0 &&
    status.PASS_TO_PASS.failure.length === 0
  );
}

/**
 * The outcome of one graded patch, checked in order: not submitted, empty patch, grading
 * impossible (infrastructure: level TESTS_FAIL, never resolved — callers must look at
 * `infrastructure_error` and not score it as the patch's failure), patch did not apply,
 * tests. `instanceId` names the task in the problems grading adds.
 */
export function buildReport(input: BuildReportInput): GradeResult {
  const patch = input.patch ?? null;
  const patchExists = patch !== null && patch.trim() !== "";
  const problems = [...input.problems];
  const infra = input.infrastructureError ?? false;
  if (typeof infra === "string" && !problems.includes(infra)) problems.push(infra);
  const infrastructureError = infra !== false && infra !== "";
  let testsStatus = gradeTests({ FAIL_TO_PASS: [], PASS_TO_PASS: [] }, new Map());
  let level: OutcomeLevelName;

  if (!input.submitted) level = "NO_SUBMIT";
  else if (!patchExists) {
    level = "EMPTY_PATCH";
    // Tests run on an empty patch (task-set checks of the base state) are still reported.
    if (input.statuses !== undefined) {
      testsStatus = gradeTests({ FAIL_TO_PASS: input.failToPass, PASS_TO_PASS: input.passToPass }, input.statuses);
    }
  } else if (infrastructureError) level = "TESTS_FAIL";
  else if (!input.patchApplied) level = "PATCH_APPLY_FAILED";
  else if (input.statuses === undefined) {
    problems.push(`${input.instanceId}: no test results`);
    level = "TESTS_FAIL";
  } else {
    testsStatus = gradeTests({ FAIL_TO_PASS: input.failToPass, PASS_TO_PASS: input.passToPass }, input.statuses);
    if (input.failToPass.length === 0) {
      problems.push(`${input.instanceId}: the task has no FAIL_TO_PASS tests, so it cannot be resolved`);
    }
    level = isResolved(testsStatus) ? "RESOLVED" : "TESTS_FAIL";
  }

  const resolved = level === "RESOLVED";
  return {
    report: {
      patch_is_None: patch === null,
      patch_exists: patchExists,
      patch_successfully_applied: patchExists && input.patchApplied,
      resolved,
      tests_status: testsStatus,
      outcome_level: level,
      grading_problems: problems,
      infrastructure_error: infrastructureError,
    },
    level,
    resolved,
  };
}
