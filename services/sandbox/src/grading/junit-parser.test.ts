import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseJunit } from "./junit-parser.js";

// Real `pytest 9.2 --junitxml` output (timestamp, host and addresses normalised): a pass, two
// failures (one parametrized), a skip, a fixture error and an xfail. Escaped `<`, `&`, `"`
// and `&#10;` appear in attributes and text.
const PYTEST_XML = `
<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="2" skipped="2" tests="7" time="0.309" timestamp="2026-01-01T00:00:00+00:00" hostname="host"><testcase classname="test_sample.TestParse" name="test_ok" time="0.001" /><testcase classname="test_sample.TestParse" name="test_fail" time="0.001"><failure message="AssertionError: assert 'a&lt;b' == 'a&amp;b'&#10;  &#10;  - a&amp;b&#10;  + a&lt;b">self = &lt;test_sample.TestParse object at 0x7f0000000000&gt;

    def test_fail(self):
&gt;       assert "a&lt;b" == "a&amp;b"
E       AssertionError: assert 'a&lt;b' == 'a&amp;b'
E         
E         - a&amp;b
E         + a&lt;b

test_sample.py:8: AssertionError</failure></testcase><testcase classname="test_sample.TestParse" name="test_param[1]" time="0.009" /><testcase classname="test_sample.TestParse" name="test_param[2]" time="0.002"><failure message="assert 2 == 1">self = &lt;test_sample.TestParse object at 0x7f0000000000&gt;, x = 2

    @pytest.mark.parametrize("x", [1, 2])
    def test_param(self, x):
&gt;       assert x == 1
E       assert 2 == 1

test_sample.py:12: AssertionError</failure></testcase><testcase classname="test_sample" name="test_skipped" time="0.000"><skipped type="pytest.skip" message="not today">test_sample.py:14: not today</skipped></testcase><testcase classname="test_sample" name="test_error" time="0.003"><error message="failed on setup with &quot;RuntimeError: fixture boom&quot;">@pytest.fixture
    def broken():
&gt;       raise RuntimeError("fixture boom")
E       RuntimeError: fixture boom

test_sample.py:20: RuntimeError</error></testcase><testcase classname="test_sample" name="test_xfail" time="0.000"><skipped type="pytest.xfail" message="" /></testcase></testsuite></testsuites>`;

void describe("parseJunit on pytest output", () => {
  void test("reads every testcase as classname::name with its status", () => {
    const r = parseJunit(PYTEST_XML);
    assert.deepEqual(
      r.tests.map((t) => [t.id, t.status]),
      [
        ["test_sample.TestParse::test_ok", "PASSED"],
        ["test_sample.TestParse::test_fail", "FAILED"],
        ["test_sample.TestParse::test_param[1]", "PASSED"],
        ["test_sample.TestParse::test_param[2]", "FAILED"],
        ["test_sample::test_skipped", "SKIPPED"],
        ["test_sample::test_error", "ERROR"],
        ["test_sample::test_xfail", "XFAIL"],
      ],
    );
    assert.deepEqual(r.problems, []);
    assert.equal(r.sawReport, true);
  });

  void test("declared and counted totals agree", () => {
    const r = parseJunit(PYTEST_XML);
    assert.deepEqual(r.declared, { tests: 7, failures: 2, errors: 1, skipped: 2 });
    assert.deepEqual(r.counts, { tests: 7, failures: 2, errors: 1, skipped: 2 });
  });

  void test("decodes entities in failure messages and keeps the text", () => {
    const failing = parseJunit(PYTEST_XML).tests[1];
    const message = failing?.failureMessages[0] ?? "";
    assert.match(message, /^failure AssertionError: assert 'a<b' == 'a&b'\n/);
    assert.match(message, />\s+assert "a<b" == "a&b"/);
    const error = parseJunit(PYTEST_XML).tests[5]?.failureMessages[0] ?? "";
    assert.match(error, /^error failed on setup with "RuntimeError: fixture boom"/);
  });
});

void describe("parseJunit shapes", () => {
  void test("skips leading program output and uses the suite name when there is no classname", () => {
    const xml = `npm WARN something <noise>\n<testsuite name="suite A" tests="2"><testcase name="x"/><testcase name="x"/></testsuite>`;
    const r = parseJunit(xml);
    assert.deepEqual(
      r.tests.map((t) => t.id),
      ["suite A::x", "suite A::x (2)"],
    );
    assert.deepEqual(r.declared, { tests: 2 });
  });

  void test("sums the outermost suites when the root has no counts", () => {
    const xml = `<testsuites>
  <testsuite name="a" tests="1" failures="0" errors="0" skipped="0"><testcase classname="a" name="1"/></testsuite>
  <testsuite name="b" tests="1" failures="1" errors="0" skipped="0">
    <testcase classname="b" name="2"><failure message="m"><![CDATA[x < y & z]]></failure><system-out>log</system-out></testcase>
  </testsuite>
</testsuites>`;
    const r = parseJunit(xml);
    assert.deepEqual(r.declared, { tests: 2, failures: 1, errors: 0, skipped: 0 });
    assert.deepEqual(r.tests[1]?.failureMessages, ["failure m\nx < y & z"]);
  });

  void test("reports broken XML without throwing", () => {
    const r = parseJunit('<testsuite tests="1"><testcase classname="a" name="x">');
    assert.equal(r.tests.length, 1);
    assert.deepEqual(r.problems, ["XML: element <testsuite> not closed", "XML: element <testcase> not closed"]);
    assert.equal(parseJunit("no xml here").sawReport, false);
  });
});
