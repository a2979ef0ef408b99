import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SpecError } from "../errors.js";
import { parseExperimentManifest } from "./load.js";

const manifest = (guidance: string): string => `apiVersion: sluice.dev/v1alpha1
kind: RLExperiment
metadata:
  name: guided
spec:
  steps: 1
  environment:
    name: digits
${guidance}`;

function issues(text: string): readonly string[] {
  try {
    parseExperimentManifest(text);
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err.issues;
  }
  assert.fail("expected the spec to be rejected");
}

void describe("spec.guidance (Agent-RLVR)", () => {
  void it("defaults: off, on_fail, one round, strip context, policy gradient, environment feedback on", () => {
    const g = parseExperimentManifest(manifest("")).spec.guidance;
    assert.equal(g.enabled, false);
    assert.equal(g.trigger, "on_fail");
    assert.equal(g.maxRounds, 1);
    assert.equal(g.context, "strip");
    assert.equal(g.update, "policy_gradient");
    assert.equal(g.environmentFeedback.enabled, true);
    assert.equal(g.environmentFeedback.maxChars, 2000);
    assert.equal(g.environmentFeedback.template, "Feedback on your previous attempt:\n{feedback}");
    assert.equal(g.planHints.enabled, false);
    assert.equal(g.planHints.source, "task_metadata");
    assert.match(g.planHints.teacher.prompt, /\{task\}/);
    assert.equal(g.interactionHints.enabled, false);
  });

  void it("accepts a full block", () => {
    const g = parseExperimentManifest(
      manifest(`  guidance:
    enabled: true
    trigger: all_group_fail
    maxRounds: 2
    context: strip_with_is
    update: dpo
    planHints: { enabled: true, source: teacher, teacher: { baseUrl: "http://127.0.0.1:9", model: t } }
    interactionHints: { enabled: true }
`),
    ).spec.guidance;
    assert.equal(g.trigger, "all_group_fail");
    assert.equal(g.planHints.teacher.model, "t");
  });

  void it("names each bad field", () => {
    const found = issues(
      manifest(`  guidance:
    enabled: true
    trigger: sometimes
    maxRounds: 0
    context: drop
    planHints: { teacher: { prompt: "no placeholder" } }
    environmentFeedback: { template: "no placeholder either" }
    typo: 1
`),
    ).join("\n");
    assert.match(found, /guidance\.trigger/);
    assert.match(found, /guidance\.maxRounds/);
    assert.match(found, /guidance\.context/);
    assert.match(found, /guidance\.planHints\.teacher\.prompt/);
    assert.match(found, /guidance\.environmentFeedback\.template.*\{feedback\} or \{detail\}/);
    assert.match(found, /typo/);
  });

  void it("rejects enabled guidance with every kind off", () => {
    const found = issues(
      manifest(`  guidance:
    enabled: true
    environmentFeedback: { enabled: false }
`),
    ).join("\n");
    assert.match(found, /at least one guidance kind/);
  });
});

void describe("spec.evaluation (final evaluation on held-out tasks)", () => {
  void it("defaults: off, 32 tasks × 4 samples, the training environment, resolved = pass", () => {
    const e = parseExperimentManifest(manifest("")).spec.evaluation;
    assert.deepEqual(e, { enabled: false, tasks: 32, samplesPerTask: 4, successThreshold: 1, deadlineMs: 600_000 });
  });

  void it("takes a held-out task set and names each bad field", () => {
    const e = parseExperimentManifest(
      manifest(`  evaluation: { enabled: true, environment: { name: swe, config: { tasks: held-out.jsonl } } }`),
    ).spec.evaluation;
    assert.deepEqual(e.environment, { name: "swe", config: { tasks: "held-out.jsonl" } });
    const found = issues(manifest(`  evaluation: { tasks: 0, samplesPerTask: 2000, deadlineMs: -1, typo: 1 }`)).join(
      "\n",
    );
    for (const key of ["tasks", "samplesPerTask", "deadlineMs"]) assert.match(found, new RegExp(`evaluation\\.${key}`));
    assert.match(found, /typo/);
  });
});
