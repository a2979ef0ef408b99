import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { changelogEntries, sanitizeFailure, synthStatement, upstreamStatement } from "./statement.js";

const FAILURE = `not ok 7 should be deeply equivalent
  ---
    operator: deepEqual
    expected: |-
      { a: 'b' }
    actual: |-
      { a: 'c' }
    at: Test.<anonymous> (/workspace/test/parse.js:12:7)
    stack: |-
      Error: should be deeply equivalent
          at Test.assert [as _assert] (/node_modules/tape/lib/test.js:492:48)
          at Object.parse (/workspace/lib/parse.js:88:15)
  ...`;

void describe("problem statements", () => {
  void test("failure diagnostics keep operator/expected/actual and drop stacks and paths", () => {
    const out = sanitizeFailure(FAILURE, ["lib/parse.js"]);
    assert.match(out, /not ok 7 should be deeply equivalent/);
    assert.match(out, /operator: deepEqual/);
    assert.match(out, /\{ a: 'c' \}/);
    assert.doesNotMatch(out, /at:|stack|workspace|lib\/parse\.js|node_modules/);
  });

  void test("a synthesized bug's statement names failing tests but never the mutated file", () => {
    const text = synthStatement({
      instanceId: "qs__6.17.1.synth.abcd1234",
      packageName: "qs",
      version: "6.17.1",
      failing: [
        { id: "test/parse.js::parses a simple string", messages: [FAILURE] },
        { id: "test/parse.js::uses `--` names", messages: [] },
      ],
      redact: ["lib/parse.js", "lib/utils.js"],
    });
    assert.match(text, /`qs`/);
    assert.match(text, /test\/parse\.js::parses a simple string/);
    assert.match(text, /`` test\/parse\.js::uses `--` names ``/);
    assert.match(text, /did not finish/);
    assert.doesNotMatch(text, /lib\/parse\.js|:88:/);
  });

  void test("the opening template is chosen by instance id, so it is stable", () => {
    const input = { packageName: "qs", version: "1.0.0", failing: [{ id: "t.js::a", messages: [] }], redact: [] };
    const a = synthStatement({ ...input, instanceId: "x1" });
    assert.equal(a, synthStatement({ ...input, instanceId: "x1" }));
    const openings = new Set(
      Array.from({ length: 20 }, (_, i) => synthStatement({ ...input, instanceId: `x${i}` }).split("\n")[0]),
    );
    assert.ok(openings.size > 1, "more than one phrasing in use");
  });

  void test("upstream statements quote behaviour entries of the fixing release's changelog", () => {
    const changelog = `# Changelog

## **6.12.1**
- [Fix] \`parse\`: Disable \`decodeDotInKeys\` by default (#490)
- [Tests] add more tests
- [Dev Deps] update \`tape\`

## **6.12.0**
- [New] \`parse\`/\`stringify\`: add \`decodeDotInKeys\`
`;
    const entries = changelogEntries(changelog, "6.12.1");
    assert.deepEqual(entries, ["[Fix] `parse`: Disable `decodeDotInKeys` by default"]);
    const autoChangelog = `## [v1.2.8](https://x/compare/v1.2.7...v1.2.8) - 2023-02-09

### Commits

- [Fix] Fix long option followed by single dash [\`63b8fe8\`](https://x/commit/63b8fe8)
- [Tests] Remove duplicate test [\`4b927de\`](https://x/commit/4b927de)

## [v1.2.7](https://x) - 2022-10-10
`;
    assert.deepEqual(changelogEntries(autoChangelog, "1.2.8"), ["[Fix] Fix long option followed by single dash"]);
    const text = upstreamStatement({
      packageName: "qs",
      oldVersion: "6.12.0",
      newVersion: "6.12.1",
      changelog: entries,
      failing: [{ id: "test/parse.js::dots", messages: [FAILURE] }],
      redact: ["lib/parse.js"],
    });
    assert.match(text, /`qs` 6\.12\.0/);
    assert.match(text, /Disable `decodeDotInKeys`/);
    assert.match(text, /test\/parse\.js::dots/);
  });
});
