import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RewardModelApi } from "@sluice/common";
import { bestOfN, candidateGroups, evaluateBestOfN, parseRecords, splitTasks, type EvalRecord } from "./eval.js";

function rec(task: string, id: string, passed: boolean, round = 0): EvalRecord {
  return {
    task_id: task,
    trajectory_id: id,
    group_id: `g-${task}`,
    guidance_round: round,
    passed,
    text: passed ? "good" : "bad",
  };
}

void describe("sluice eval (test-time reward model, best of N)", () => {
  void it("bestOfN: RM pick vs a uniform pick vs the oracle, by hand", () => {
    const r = bestOfN([
      [
        { passed: false, score: 0.1 },
        { passed: true, score: 0.9 },
        { passed: false, score: 0.2 },
        { passed: false, score: 0.3 },
      ],
      [
        { passed: false, score: 0.8 },
        { passed: true, score: 0.1 },
      ],
      [
        { passed: false, score: 0 },
        { passed: false, score: 0 },
      ],
    ]);
    assert.ok(Math.abs(r.passAt1Rm - 1 / 3) < 1e-12);
    assert.ok(Math.abs(r.passAt1Random - (0.25 + 0.5 + 0) / 3) < 1e-12);
    assert.ok(Math.abs(r.passAtNOracle - 2 / 3) < 1e-12);
  });

  void it("parses JSONL, dropping repeated trajectory ids, and names the bad line", () => {
    const line = JSON.stringify(rec("t", "a", true));
    assert.equal(parseRecords(`${line}\n${line}\n`, "f").length, 1);
    assert.throws(() => parseRecords(`${line}\n{"x":1}\n`, "f.jsonl"), /f\.jsonl:2/);
  });

  void it("splits by task and offers only unguided first attempts as candidates", () => {
    const records = ["a", "b", "c", "d"].flatMap((t) => [
      rec(t, `${t}0`, false),
      rec(t, `${t}1`, true),
      rec(t, `${t}2`, true, 1),
    ]);
    const split = splitTasks(records, 0.5, 7);
    assert.equal(split.trainTasks + split.testTasks, 4);
    const trainTasks = new Set(split.train.map((r) => r.task_id));
    assert.ok(
      split.test.every((r) => !trainTasks.has(r.task_id)),
      "no task on both sides",
    );
    for (const g of candidateGroups(split.test, 4)) assert.ok(g.every((r) => r.guidance_round === 0));
  });

  void it("trains the RM on the training split (balanced) and selects with its scores", async () => {
    const trained: { text: string; label: number }[] = [];
    const fake: Pick<RewardModelApi, "create" | "train" | "score"> = {
      create: () => Promise.resolve({ created: true }),
      train: (req) => {
        trained.push(...req.examples!);
        return Promise.resolve({ loss: 0.1, accuracy: 1, accuracyCount: 1, version: 1, steps: 1, gradNorm: 0 });
      },
      // A perfect RM: "good" scores high.
      score: (_name, texts) =>
        Promise.resolve({ scores: texts.map((t) => (t === "good" ? 2 : -2)), probabilities: [], version: 1, kind: 1 }),
    };
    const records = ["a", "b", "c", "d"].flatMap((t) => [
      rec(t, `${t}0`, false),
      rec(t, `${t}1`, false),
      rec(t, `${t}2`, true),
      rec(t, `${t}3`, false),
    ]);
    const report = await evaluateBestOfN(fake, records, { n: 4, testFrac: 0.5, steps: 3, batch: 4, seed: 1 });
    assert.equal(report.groups, 2);
    assert.equal(report.passAt1Rm, 1);
    assert.equal(report.passAt1Random, 0.25);
    assert.equal(report.rmAccuracy, 1);
    assert.equal(trained.length, 12);
    assert.equal(trained.filter((e) => e.label === 1).length, 6, "balanced batches");
  });
});
