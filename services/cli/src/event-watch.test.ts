import assert from "node:assert/strict";
import { test } from "node:test";
import { contracts } from "@sluice/common";
import { classifyEvent, formatEvent } from "./event-watch.js";

const ev = (
  kind: string,
  component: string,
  severity: contracts.Severity,
  attributes: Record<string, string> = {},
): contracts.Event => ({
  experiment: "toy",
  component,
  kind,
  severity,
  message: "boom",
  step: 4,
  timeMs: 0,
  attributes,
  values: {},
});
const { SEVERITY_ERROR, SEVERITY_INFO, SEVERITY_WARNING } = contracts.Severity;

void test("crashes and failed starts are fatal and shown", () => {
  assert.deepEqual(classifyEvent(ev("component_crashed", "actor", SEVERITY_ERROR)), { show: true, fatal: true });
  assert.deepEqual(classifyEvent(ev("component_failed_to_start", "reward", SEVERITY_ERROR)), {
    show: true,
    fatal: true,
  });
});

void test("with restarts allowed, a crash is shown and left to the restart policy", () => {
  const restarts = { restartsAllowed: true };
  assert.deepEqual(classifyEvent(ev("component_crashed", "actor", SEVERITY_ERROR), restarts), {
    show: true,
    fatal: false,
  });
  assert.deepEqual(classifyEvent(ev("component_restarted", "cli", SEVERITY_WARNING), restarts), {
    show: true,
    fatal: false,
  });
});

void test("stalls and other errors are shown but not fatal; info is quiet", () => {
  assert.deepEqual(classifyEvent(ev("learner_stalled", "learner", SEVERITY_ERROR)), { show: true, fatal: false });
  assert.deepEqual(classifyEvent(ev("learner_step", "learner", SEVERITY_INFO)), { show: false, fatal: false });
});

void test("only the reward service's rejections count as reward drops", () => {
  assert.equal(
    classifyEvent(ev("trajectory_rejected", "reward", SEVERITY_WARNING, { reason: "bad_tokens" })).rejection,
    "bad_tokens",
  );
  assert.equal(classifyEvent(ev("malformed_message", "reward", SEVERITY_WARNING)).rejection, "malformed");
  // The learner already reports its malformed drops in GetStatus.
  assert.equal(classifyEvent(ev("malformed_message", "learner", SEVERITY_WARNING)).rejection, undefined);
});

void test("formats an event on one line", () => {
  assert.equal(
    formatEvent(ev("learner_stalled", "learner", SEVERITY_ERROR)),
    "[error] learner: learner_stalled step 4 - boom",
  );
});
