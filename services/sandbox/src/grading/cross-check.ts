import type { JunitParseResult } from "./junit-parser.js";
import type { TapParseResult } from "./tap-parser.js";
import { capMessage, type TestResult, type TestStatus } from "./test-status.js";

/**
 * Anti-spoofing: the parsed output of one test file must agree with how its process ended.
 * Code under test runs in the same process as the test harness, so a patch could print `ok`
 * lines, swallow failures or exit early; a file whose output and exit status disagree is
 * inconsistent and none of its tests may count as passing. Checked:
 * - no TAP / no JUnit report at all, output cut at the runner's cap;
 * - exit 0 with failures, non-zero exit with none;
 * - TAP: no plan, plan count ≠ assertions, summary counts ≠ parsed counts, `Bail out!`,
 *   and every parser problem (numbering out of sequence, content after the plan, …);
 * - JUnit: declared tests/failures/errors/skipped ≠ the testcases, XML problems.
 * Tests of an inconsistent file become FAILED; when the process did not finish (timed out,
 * killed, signalled) ERROR. Both fail grading. Tests already FAILED / ERROR stay so.
 */
export interface CrossCheckInput {
  /** null or negative when the process did not exit normally. */
  exitCode: number | null;
  timedOut: boolean;
  /** Signal that ended the process; "" / null / undefined: none. */
  signal?: string | null;
  /** The runner killed the process (sandbox limit, cancellation). */
  killed?: boolean;
  /** Output was cut at the runner's cap, so what was parsed is incomplete. */
  outputTruncated?: boolean;
  parsed: TapParseResult | JunitParseResult;
}

export interface FileCheck {
  consistent: boolean;
  /** The parsed tests, forced to FAILED / ERROR when the file is inconsistent. */
  tests: TestResult[];
  /** Parser and cross-check problems (not prefixed: the caller knows the file). */
  problems: string[];
}

export function crossCheck(input: CrossCheckInput): FileCheck {
  const { parsed } = input;
  const own = parsed.format === "tap" ? tapMismatches(parsed) : junitMismatches(parsed);
  const anyFailure = parsed.format === "tap" ? parsed.assertions.failed > 0 : hasFailures(parsed);
  if (input.outputTruncated === true) own.push("output truncated at the runner's cap");
  own.push(...exitMismatches(input, anyFailure));
  const problems = [...own, ...parsed.problems];
  if (problems.length === 0) return { consistent: true, tests: parsed.tests, problems };

  const forced: TestStatus = unfinished(input) ? "ERROR" : "FAILED";
  const note = capMessage(`inconsistent test output: ${problems.join("; ")}`);
  return {
    consistent: false,
    tests: parsed.tests.map((t) => ({
      id: t.id,
      status: t.status === "FAILED" || t.status === "ERROR" ? t.status : forced,
      failureMessages: [...t.failureMessages, note],
    })),
    problems,
  };
}

function tapMismatches(parsed: TapParseResult): string[] {
  if (!parsed.sawTap) return ["no TAP output"];
  const out: string[] = [];
  const { assertions: a, plan, summary } = parsed;
  const total = a.ok + a.notOk;
  if (parsed.bailOut !== undefined) out.push(`bailed out${parsed.bailOut === "" ? "" : `: ${parsed.bailOut}`}`);
  if (plan === undefined) out.push("no plan: the output is incomplete");
  else if (plan.count !== total) out.push(`plan 1..${plan.count} but ${total} assertions`);
  if (summary === undefined) return out;
  // tape's summary: `tests` counts every assertion, `pass` includes skips and TODO failures,
  // `# fail` is printed only when non-zero.
  const expected: [string, number | undefined, number][] = [
    ["tests", summary.tests, total],
    ["pass", summary.pass, total - a.failed],
    ["fail", summary.fail ?? (summary.tests === undefined ? undefined : 0), a.failed],
    ["skip", summary.skip, a.skipped],
    ["todo", summary.todo, a.todo],
  ];
  for (const [key, said, seen] of expected) {
    if (said !== undefined && said !== seen) out.push(`summary says ${key} ${said} but the output has ${seen}`);
  }
  if (summary.ok !== undefined && summary.ok !== (a.failed === 0)) {
    out.push(`summary says ${summary.ok ? "ok" : "not ok"} but ${a.failed} assertions failed`);
  }
  return out;
}

function junitMismatches(parsed: JunitParseResult): string[] {
  if (!parsed.sawReport) return ["no JUnit report in the output"];
  const out: string[] = [];
  for (const key of ["tests", "failures", "errors", "skipped"] as const) {
    const declared = parsed.declared[key];
    if (declared !== undefined && declared !== parsed.counts[key]) {
      out.push(`report declares ${key}=${declared} but its testcases give ${parsed.counts[key]}`);
    }
  }
  return out;
}

function hasFailures(parsed: JunitParseResult): boolean {
  return parsed.counts.failures + parsed.counts.errors > 0;
}

function unfinished(run: CrossCheckInput): boolean {
  return run.timedOut || run.killed === true || !!run.signal || run.exitCode === null || run.exitCode < 0;
}

function exitMismatches(run: CrossCheckInput, anyFailure: boolean): string[] {
  if (run.timedOut) return ["timed out"];
  if (run.killed === true || !!run.signal) return [`killed${run.signal ? ` by ${run.signal}` : ""}`];
  if (run.exitCode === null || run.exitCode < 0) return ["no exit status"];
  if (run.exitCode === 0 && anyFailure) return ["exit status 0 but tests failed"];
  if (run.exitCode !== 0 && !anyFailure) return [`exit status ${run.exitCode} but no test failed`];
  return [];
}
