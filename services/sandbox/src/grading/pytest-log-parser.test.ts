import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { REPO_ROOT } from "@sluice/common";
import { parsePytestLog } from "./pytest-log-parser.js";

// Upstream SWE-smith evaluation log (copied verbatim into the repo; provenance in fixtures/swe-format/README.md).
const LOG = join(
  REPO_ROOT,
  "fixtures",
  "swe-format",
  "swe-smith",
  "run_evaluation",
  "pandas-dev__pandas.95280573.pr_53652",
  "test_output.txt",
);

void describe("parsePytestLog (SWE-bench compat)", () => {
  void test("reads the verbose lines of the SWE-smith log between the markers", () => {
    const map = parsePytestLog(readFileSync(LOG, "utf8"));
    assert.equal(map.size, 11);
    assert.ok([...map.values()].every((s) => s === "PASSED"));
    assert.equal(
      map.get("pandas/tests/indexing/test_datetime.py::TestDatetimeIndex::test_getitem_pyarrow_index[Series]"),
      "PASSED",
    );
  });

  void test("reads -rA summary lines, drops FAILED messages and skip counts", () => {
    const log = [
      "tests/test_a.py::test_one PASSED                                   [ 50%]",
      "tests/test_a.py::test_two FAILED                                   [100%]",
      "=========================== short test summary info ============================",
      "PASSED tests/test_a.py::test_one",
      "FAILED tests/test_a.py::test_two - AssertionError: assert 1 == 2",
      "SKIPPED [1] tests/test_b.py:3: no network",
      "XFAIL tests/test_b.py::test_known - bug 12",
      "ERROR tests/test_b.py::test_setup - RuntimeError",
      "XPASS tests/test_b.py::test_lucky",
    ].join("\n");
    assert.deepEqual(
      [...parsePytestLog(log)],
      [
        ["tests/test_a.py::test_one", "PASSED"],
        ["tests/test_a.py::test_two", "FAILED"],
        ["tests/test_b.py::test_known", "XFAIL"],
        ["tests/test_b.py::test_setup", "ERROR"],
      ],
    );
  });

  void test("falls back to the whole log when the marked part has no results", () => {
    const log = "+ : '>>>>> Start Test Output'\n+ : '>>>>> End Test Output'\nt.py::a PASSED\n";
    assert.deepEqual([...parsePytestLog(log)], [["t.py::a", "PASSED"]]);
  });
});
