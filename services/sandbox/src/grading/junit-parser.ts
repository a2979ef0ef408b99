import { capMessage, MAX_FAILURE_MESSAGES, UniqueIds, type TestResult, type TestStatus } from "./test-status.js";
import { parseXml, type XmlElement } from "./xml-tokenizer.js";

/**
 * JUnit XML (`testsuites` / `testsuite` / `testcase` with `failure`, `error`, `skipped`
 * children), as mocha, jest-junit, pytest and tap-xunit write it. Ids are `classname::name`
 * (the enclosing suite's name when a testcase has no classname); a repeated id gets ` (2)`, …
 *
 * Status: `error` → ERROR, else `failure` → FAILED, else `skipped` → SKIPPED (XFAIL when
 * pytest marks it `type="pytest.xfail"`), else PASSED.
 * The counts the report declares (`tests`, `failures`, `errors`, `skipped` on the root, or
 * summed over the outermost suites) are returned for the cross-check.
 */
export interface JunitCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export interface JunitParseResult {
  format: "junit";
  tests: TestResult[];
  /** What the report says about itself; a count is absent when no attribute gives it. */
  declared: Partial<JunitCounts>;
  /** What the testcases themselves add up to. */
  counts: JunitCounts;
  /** A testsuite or testsuites element was found. */
  sawReport: boolean;
  problems: string[];
}

const COUNT_KEYS = ["tests", "failures", "errors", "skipped"] as const;

export function parseJunit(output: string): JunitParseResult {
  // Test programs may print before the report; start at the XML.
  const start = output.search(/<\?xml|<testsuites[\s>/]|<testsuite[\s>/]/);
  const doc = parseXml(start < 0 ? "" : output.slice(start));
  const problems = doc.problems.map((p) => `XML: ${p}`);
  const counts: JunitCounts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const ids = new UniqueIds();
  const tests: TestResult[] = [];

  const outermost = doc.roots.flatMap((r) => findOutermost(r, ["testsuites", "testsuite"]));
  if (doc.roots.length > 1) problems.push(`${doc.roots.length} XML documents in one output`);

  for (const { element: testcase, suite } of testcases(outermost)) {
    const name = testcase.attrs.name ?? "";
    const className = testcase.attrs.classname ?? testcase.attrs.class ?? suite ?? "";
    const status = caseStatus(testcase);
    counts.tests++;
    if (status === "ERROR") counts.errors++;
    if (status === "FAILED") counts.failures++;
    // Writers count an expected failure among the skipped.
    if (status === "SKIPPED" || status === "XFAIL") counts.skipped++;
    tests.push({
      id: ids.next(className === "" ? name : `${className}::${name}`),
      status,
      failureMessages: failureMessages(testcase),
    });
  }
  return {
    format: "junit",
    tests,
    declared: declaredCounts(outermost),
    counts,
    sawReport: outermost.length > 0,
    problems,
  };
}

function findOutermost(element: XmlElement, names: readonly string[]): XmlElement[] {
  if (names.includes(element.name)) return [element];
  return element.children.flatMap((c) => findOutermost(c, names));
}

/** Every testcase under the given elements, with the name of the suite that holds it. */
function testcases(
  elements: readonly XmlElement[],
  suite?: string,
): { element: XmlElement; suite: string | undefined }[] {
  return elements.flatMap((e) => {
    if (e.name === "testcase") return [{ element: e, suite }];
    const inner = e.name === "testsuite" ? (e.attrs.name ?? suite) : suite;
    return testcases(e.children, inner);
  });
}

function caseStatus(testcase: XmlElement): TestStatus {
  const kinds = new Set(testcase.children.map((c) => c.name));
  if (kinds.has("error")) return "ERROR";
  if (kinds.has("failure")) return "FAILED";
  const skipped = testcase.children.find((c) => c.name === "skipped");
  if (skipped !== undefined) return skipped.attrs.type === "pytest.xfail" ? "XFAIL" : "SKIPPED";
  return "PASSED";
}

function failureMessages(testcase: XmlElement): string[] {
  return testcase.children
    .filter((c) => c.name === "failure" || c.name === "error")
    .slice(0, MAX_FAILURE_MESSAGES)
    .map((c) => {
      const head = [c.attrs.type, c.attrs.message].filter((s) => s !== undefined && s !== "").join(": ");
      return capMessage([`${c.name}${head === "" ? "" : ` ${head}`}`, c.text.trim()].filter((s) => s).join("\n"));
    });
}

/** The root `testsuites` counts when it has them, else the sum over the outermost suites. */
function declaredCounts(outermost: readonly XmlElement[]): Partial<JunitCounts> {
  const suites = outermost
    .flatMap((e) => (e.name === "testsuites" && !COUNT_KEYS.some((k) => k in e.attrs) ? e.children : [e]))
    .filter((e) => e.name === "testsuite" || e.name === "testsuites");
  const declared: Partial<JunitCounts> = {};
  for (const key of COUNT_KEYS) {
    // `skipped` is spelt `skip` by some older writers; a count no suite gives stays unknown.
    const numbers = suites.map((s) => Number(s.attrs[key] ?? (key === "skipped" ? s.attrs.skip : undefined)));
    if (numbers.length > 0 && numbers.every((n) => Number.isInteger(n) && n >= 0)) {
      declared[key] = numbers.reduce((a, b) => a + b, 0);
    }
  }
  return declared;
}
