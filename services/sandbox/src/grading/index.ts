// Grading: test-output parsers, the anti-spoofing cross-check and SWE-bench-style reports.
export {
  TEST_STATUSES,
  MAX_FAILURE_MESSAGE_CHARS,
  MAX_FAILURE_MESSAGES,
  statusMap,
  type TestStatus,
  type TestResult,
} from "./test-status.js";
export { parseTap, type TapParseResult, type TapPlan, type TapSummary, type TapAssertionCounts } from "./tap-parser.js";
export { parseJunit, type JunitParseResult, type JunitCounts } from "./junit-parser.js";
export { parsePytestLog, START_TEST_OUTPUT, END_TEST_OUTPUT } from "./pytest-log-parser.js";
export { crossCheck, type CrossCheckInput, type FileCheck } from "./cross-check.js";
export {
  gradeTests,
  isResolved,
  buildReport,
  type OutcomeLevelName,
  type TestLists,
  type SuccessFailure,
  type TestsStatus,
  type SweBenchReport,
  type BuildReportInput,
  type GradeResult,
} from "./swebench-grading.js";
