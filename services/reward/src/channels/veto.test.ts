import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rewardSchema } from "@sluice/common";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { toolCall } from "../testing/tool-calls.js";
import { vetoChannels } from "./veto.js";

void describe("veto channels", () => {
  const all = rewardSchema.parse({
    veto: {
      patchTooLarge: { enabled: true, maxBytes: 100 },
      invalidToolCalls: { enabled: true, max: 1 },
      testsModified: { enabled: true },
    },
  }).veto;
  const verdicts = (t = makeTrajectory()) =>
    Object.fromEntries(vetoChannels(all).map((c) => [c.name, c.score(t).value]));

  void it("are off by default", () => {
    assert.deepEqual(vetoChannels(rewardSchema.parse({}).veto), []);
  });

  void it("pass a clean trajectory", () => {
    assert.deepEqual(verdicts(), { patch_too_large: 1, invalid_tool_calls: 1, tests_modified: 1 });
  });

  void it("patch_too_large fails on the report's flag or on a size over maxBytes", () => {
    assert.equal(verdicts(makeTrajectory({ verifierReportJson: '{"patch_too_large":true}' })).patch_too_large, 0);
    assert.equal(verdicts(makeTrajectory({ verifierReportJson: '{"size_bytes":101}' })).patch_too_large, 0);
    assert.equal(verdicts(makeTrajectory({ verifierReportJson: '{"patch_bytes":100}' })).patch_too_large, 1);
    assert.equal(verdicts(makeTrajectory({ verifierReportJson: "not json" })).patch_too_large, 1);
  });

  void it("invalid_tool_calls fails past the allowed count", () => {
    const bad = toolCall("bash", {}, { valid: false });
    const one = makeTrajectory({ turns: [makeTurn(2, { toolCalls: [bad] }), makeTurn(2)] });
    const two = makeTrajectory({ turns: [makeTurn(2, { toolCalls: [bad] }), makeTurn(2, { toolCalls: [bad] })] });
    assert.equal(verdicts(one).invalid_tool_calls, 1);
    assert.equal(verdicts(two).invalid_tool_calls, 0);
  });

  void it("tests_modified fails on the metadata or report flag", () => {
    assert.equal(verdicts(makeTrajectory({ metadata: { tests_modified: "true" } })).tests_modified, 0);
    assert.equal(verdicts(makeTrajectory({ verifierReportJson: '{"tests_modified":true}' })).tests_modified, 0);
    assert.equal(verdicts(makeTrajectory({ metadata: { tests_modified: "false" } })).tests_modified, 1);
  });
});
