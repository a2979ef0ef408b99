import assert from "node:assert/strict";
import { test } from "node:test";
import { buildSummary, mergeDropped, summaryLine } from "./summary.js";

const status = {
  step: 3,
  policyVersion: 3,
  trajectoriesTrained: 96,
  trajectoriesDropped: { stale: 2, malformed: 1 },
  rewardMeanByStep: [0.1, 0.2, 0.3],
  completionRateByStep: [0.5, 0.25, 0],
  finished: true,
};

void test("builds the summary from the final learner status", () => {
  const s = buildSummary({
    experiment: "toy",
    runDir: "/r",
    status,
    trajectoriesPublished: 101,
    rewardRejections: { malformed: 2, bad_tokens: 1 },
    startedAtMs: 1_000,
    endedAtMs: 13_345,
    exit: "completed",
  });
  assert.deepEqual(s, {
    experiment: "toy",
    steps: 3,
    reward_mean_by_step: [0.1, 0.2, 0.3],
    completion_rate_by_step: [0.5, 0.25, 0],
    trajectories_published: 101,
    trajectories_trained: 96,
    trajectories_dropped: { stale: 2, malformed: 3, bad_tokens: 1 },
    final_policy_version: 3,
    wall_seconds: 12.35,
    exit: "completed",
    run_dir: "/r",
  });
  assert.match(
    summaryLine(s),
    /completed: toy 3 steps .* final reward 0\.300, policy v3; trajectories published 101 trained 96 dropped 6/,
  );
});

void test("a run that failed before the learner answered still has a summary with the error", () => {
  const s = buildSummary({
    experiment: "toy",
    runDir: "/r",
    status: undefined,
    trajectoriesPublished: undefined,
    rewardRejections: {},
    startedAtMs: 0,
    endedAtMs: 500,
    exit: "failed",
    error: "engine exited unexpectedly",
  });
  assert.equal(s.steps, 0);
  assert.deepEqual(s.reward_mean_by_step, []);
  assert.deepEqual(s.completion_rate_by_step, []);
  assert.equal(s.error, "engine exited unexpectedly");
  assert.match(summaryLine(s), /^failed: .*error: engine exited/);
});

void test("merging dropped counts does not mutate its inputs", () => {
  const a = { x: 1 };
  assert.deepEqual(mergeDropped(a, { x: 2, y: 1 }), { x: 3, y: 1 });
  assert.deepEqual(a, { x: 1 });
});
