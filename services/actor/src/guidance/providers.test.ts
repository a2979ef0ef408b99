import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { contracts } from "@sluice/common";
import { environmentFeedbackText } from "./environment-feedback.js";
import { InteractionHints } from "./interaction-hints.js";
import { TaskMetadataPlanHints, TeacherPlanHints, touchedLocations } from "./plan-hints.js";
import type { GuidanceInput } from "./types.js";

const PATCH = `diff --git a/lib/parse.js b/lib/parse.js
--- a/lib/parse.js
+++ b/lib/parse.js
@@ -10,7 +10,7 @@ function parseValues(str, options) {
-  x
+  y
diff --git a/lib/utils.js b/lib/utils.js
@@ -1,2 +1,2 @@
-a
+b
`;

function input(report: unknown, payload: unknown = { patch: PATCH, problem_statement: "parse breaks" }): GuidanceInput {
  return {
    task: { id: "qs-1", payload },
    failed: contracts.Trajectory.fromPartial({
      trajectoryId: "t0",
      verifierReportJson: report === undefined ? "" : JSON.stringify(report),
      outcome: { detail: "submitted: TESTS_FAIL" },
    }),
    round: 1,
    feedback: "",
  };
}

const REPORT = {
  patch_successfully_applied: true,
  outcome_level: "TESTS_FAIL",
  tests_status: {
    FAIL_TO_PASS: { success: [], failure: ["test/parse.js::parses arrays"] },
    PASS_TO_PASS: { success: ["test/a.js::ok"], failure: ["test/utils.js::merges"] },
  },
  failure_messages: { "test/parse.js::parses arrays": ["AssertionError: expected [ 'a' ] to equal [ 'a', 'b' ]"] },
  grading_problems: [],
};

void describe("guidance providers", () => {
  void it("environment feedback lists failing tests with their assertion messages", () => {
    const text = environmentFeedbackText(input(REPORT), { maxChars: 2000, maxTests: 8 })!;
    assert.match(text, /test\/parse\.js::parses arrays/);
    assert.match(text, /AssertionError: expected/);
    assert.match(text, /test\/utils\.js::merges/);
    assert.doesNotMatch(text, /test\/a\.js::ok/);
  });

  void it("environment feedback is truncated to its budget", () => {
    const text = environmentFeedbackText(input(REPORT), { maxChars: 60, maxTests: 8 })!;
    assert.ok(text.length <= 60, `${text.length} chars`);
    assert.match(text, /truncated/);
  });

  void it("environment feedback falls back to the outcome detail without a report", () => {
    assert.match(environmentFeedbackText(input(undefined), { maxChars: 500, maxTests: 8 })!, /TESTS_FAIL/);
  });

  void it("environment feedback follows its template: {feedback} the full text, {detail} the outcome detail", () => {
    const fallback = environmentFeedbackText(input(undefined), { maxChars: 500, maxTests: 8 });
    assert.equal(fallback, "Feedback on your previous attempt:\nYour previous attempt failed: submitted: TESTS_FAIL");
    const detailOnly = environmentFeedbackText(input(undefined), { maxChars: 500, maxTests: 8, template: "{detail}" });
    assert.equal(detailOnly, "submitted: TESTS_FAIL");
    const withReport = environmentFeedbackText(input(REPORT), {
      maxChars: 2000,
      maxTests: 8,
      template: "Tests ({detail}):\n{feedback}",
    })!;
    assert.match(withReport, /^Tests \(submitted: TESTS_FAIL\):\nThese tests failed after your change \(2\):/);
  });

  void it("task-metadata plan hints name the files and functions the gold patch touches", async () => {
    assert.deepEqual(touchedLocations(PATCH).files, ["lib/parse.js", "lib/utils.js"]);
    const item = await new TaskMetadataPlanHints(1000).build(input(REPORT));
    assert.match(item!.text, /lib\/parse\.js \(near: function parseValues\(str, options\) \{\)/);
    assert.match(item!.text, /lib\/utils\.js/);
    assert.equal(await new TaskMetadataPlanHints(1000).build(input(REPORT, { start: 3 })), undefined);
  });

  void it("interaction hints fill in the task's test command", async () => {
    const item = await new InteractionHints("run `{test_cmd}`").build(
      input(REPORT, { env: { test_command: ["node", "--test"], test_files: ["test/parse.js"] } }),
    );
    assert.equal(item!.text, "run `node --test test/parse.js`");
  });

  void it("teacher plan hints come from an OpenAI-compatible server with the configured prompt", async () => {
    const seen: unknown[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push(JSON.parse(body));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content: "Edit parseValues." } }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const teacher = new TeacherPlanHints({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        model: "teacher",
        prompt: "T={task} F={feedback}",
        temperature: 0,
        maxTokens: 32,
        requestDeadlineMs: 5_000,
        maxChars: 500,
      });
      const item = await teacher.build({ ...input(REPORT), feedback: "tests failed" });
      assert.deepEqual(item, { kind: "plan_hint", text: "Plan: Edit parseValues.", source: "teacher" });
      const req = seen[0] as { model: string; messages: { content: string }[] };
      assert.equal(req.model, "teacher");
      assert.equal(req.messages[0]!.content, "T=parse breaks F=tests failed");
    } finally {
      server.close();
    }
  });
});
