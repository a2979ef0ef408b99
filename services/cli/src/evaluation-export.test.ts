import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts } from "@sluice/common";
import { evaluationSample, passRates, type EvaluationSample } from "./evaluation-export.js";

const { FailureKind } = contracts;

function sample(group: string, i: number, passed: boolean, failure = ""): EvaluationSample {
  return {
    task_id: group,
    trajectory_id: `${group}-${i}`,
    group_id: group,
    guidance_round: 0,
    passed,
    score: passed ? 1 : 0,
    failure,
    policy_version: 3,
    text: "",
  };
}

void describe("final evaluation samples", () => {
  void it("pass@1 is the mean per-task pass share and pass@N the share of tasks with a pass, by hand", () => {
    const r = passRates([
      sample("e0", 0, true),
      sample("e0", 1, false),
      sample("e0", 2, false),
      sample("e0", 3, true),
      sample("e1", 0, false),
      sample("e1", 1, false),
      // Infrastructure failures are left out, not counted as fails (nor as passes).
      sample("e1", 2, true, "SANDBOX_ERROR"),
      sample("e2", 0, true),
    ]);
    assert.equal(r.tasks, 3);
    assert.ok(Math.abs(r.passAt1 - (0.5 + 0 + 1) / 3) < 1e-12);
    assert.ok(Math.abs(r.passAtN - 2 / 3) < 1e-12);
  });

  void it("a sample passes at the threshold without an infrastructure failure and reads like the guided data", () => {
    const t = contracts.Trajectory.fromPartial({
      trajectoryId: "e4-1",
      groupId: "e4",
      taskId: "recall-3-1073741828",
      admittedPolicyVersion: 7,
      failure: FailureKind.FAILURE_KIND_NONE,
      outcome: { score: 0.75 },
      turns: [{ observationText: "recall the code\nab\n", actionText: "4" }],
    });
    const s = evaluationSample(t, 0.75);
    assert.deepEqual(s, {
      task_id: "recall-3-1073741828",
      trajectory_id: "e4-1",
      group_id: "e4",
      guidance_round: 0,
      passed: true,
      score: 0.75,
      failure: "",
      policy_version: 7,
      text: "recall the code\nab\n4",
    });
    assert.equal(evaluationSample(t, 0.8).passed, false);
    const broken = evaluationSample({ ...t, failure: FailureKind.FAILURE_KIND_INFERENCE_ERROR }, 0.5);
    assert.equal(broken.passed, false);
    assert.equal(broken.failure, "INFERENCE_ERROR");
  });
});
