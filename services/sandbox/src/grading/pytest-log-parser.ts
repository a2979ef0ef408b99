import type { TestStatus } from "./test-status.js";

/**
 * SWE-bench compatibility only: reads a `pytest -rA` / `pytest --verbose` log the way
 * SWE-bench's `parse_log_pytest` does (harness/log_parsers/python.py), so grading can be
 * checked against upstream evaluation logs (the SWE-smith fixture). Sluice's own runs never
 * use it: they grade structured output (TAP, JUnit) from one process per test file, and
 * cross-check it against exit status. A free-form log like this cannot be cross-checked.
 *
 * Lines `STATUS test-id` (the -rA summary; `FAILED id - message` drops the message) and
 * `test-id STATUS` (verbose progress) are read; a later line for an id wins. `SKIPPED [N] …`
 * summary lines are counts, not tests. When the log holds SWE-bench's
 * `>>>>> Start Test Output` / `>>>>> End Test Output` markers only the part between them is
 * read, falling back to the whole log when that part yields nothing (as upstream does).
 */
const STATUSES = ["FAILED", "PASSED", "SKIPPED", "ERROR", "XFAIL"] as const;
const ALT = STATUSES.join("|");
const STATUS_FIRST = new RegExp(`^(${ALT})\\s+(\\S+)`);
const TEST_FIRST = new RegExp(`^(\\S+)\\s+(${ALT})(?:\\s|$)`);
const SKIP_COUNT = /^\[\d+\]/;

export const START_TEST_OUTPUT = ">>>>> Start Test Output";
export const END_TEST_OUTPUT = ">>>>> End Test Output";

export function parsePytestLog(log: string): Map<string, TestStatus> {
  const start = log.indexOf(START_TEST_OUTPUT);
  const end = start < 0 ? -1 : log.indexOf(END_TEST_OUTPUT, start);
  if (start >= 0 && end >= 0) {
    const inner = parseLines(log.slice(start + START_TEST_OUTPUT.length, end));
    if (inner.size > 0) return inner;
  }
  return parseLines(log);
}

function parseLines(text: string): Map<string, TestStatus> {
  const map = new Map<string, TestStatus>();
  for (const line of text.split("\n")) {
    const parsed = parseLine(line.replace(/\r$/, ""));
    if (parsed !== undefined) map.set(parsed[0], parsed[1]);
  }
  return map;
}

function parseLine(line: string): [string, TestStatus] | undefined {
  const statusFirst = STATUS_FIRST.exec(line);
  if (statusFirst) {
    const status = statusFirst[1] as TestStatus;
    let id = statusFirst[2] ?? "";
    if (status === "FAILED") id = line.replaceAll(" - ", " ").split(/\s+/)[1] ?? id;
    if (status === "SKIPPED" && SKIP_COUNT.test(id)) return undefined;
    return [id, status];
  }
  const testFirst = TEST_FIRST.exec(line);
  if (testFirst) return [testFirst[1] ?? "", testFirst[2] as TestStatus];
  return undefined;
}
