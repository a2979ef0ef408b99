import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GrpcRewardModelClient } from "@sluice/common";
import { startEngine, type EngineProcess } from "@sluice/common/internal";
import { evaluateBestOfN, type EvalRecord } from "./eval.js";

/**
 * The test-time reward model on a real engine: guided data where passing transcripts differ
 * from failing ones (as a verifier-passing patch differs from a failing one). Trained on half
 * the tasks, the RM's pick on the other half must beat a random pick.
 */
void describe("sluice eval against the engine's reward-model service", { timeout: 240_000 }, () => {
  let engine: EngineProcess;
  before(async () => {
    engine = await startEngine();
  });
  after(async () => {
    await engine?.stop();
  });

  void it("an outcome RM trained on guided data selects passing attempts better than chance", async () => {
    const records: EvalRecord[] = [];
    for (let task = 0; task < 16; task++) {
      for (let i = 0; i < 4; i++) {
        const passed = i === task % 4;
        records.push({
          task_id: `t${task}`,
          trajectory_id: `t${task}-${i}`,
          group_id: `g${task}`,
          guidance_round: 0,
          passed,
          text: `task ${task}\n${passed ? "tests pass: ok ok ok" : "error: assertion failed"}`,
        });
      }
      // A guided re-attempt (training data only, never a candidate).
      records.push({
        task_id: `t${task}`,
        trajectory_id: `t${task}-4`,
        group_id: `g${task}`,
        guidance_round: 1,
        passed: true,
        text: `task ${task}\ntests pass: ok ok ok`,
      });
    }
    const rm = new GrpcRewardModelClient(`127.0.0.1:${engine.port}`);
    try {
      const report = await evaluateBestOfN(rm, records, { n: 4, testFrac: 0.5, steps: 40, batch: 16, seed: 0 });
      assert.equal(report.groups, 8);
      assert.equal(report.passAt1Random, 0.25);
      assert.equal(report.passAtNOracle, 1);
      assert.ok(report.passAt1Rm > report.passAt1Random, JSON.stringify(report));
    } finally {
      rm.close();
    }
  });
});
