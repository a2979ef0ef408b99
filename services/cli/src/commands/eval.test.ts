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

  void it("with --candidates: trains on all the data but the candidate tasks and picks among the fresh samples", async () => {
    const trainedTexts: string[] = [];
    const scoredTexts: string[] = [];
    const fake: Pick<RewardModelApi, "create" | "train" | "score"> = {
      create: () => Promise.resolve({ created: true }),
      train: (req) => {
        trainedTexts.push(...req.examples!.map((e) => e.text));
        return Promise.resolve({ loss: 0.1, accuracy: 1, accuracyCount: 1, version: 1, steps: 1, gradNorm: 0 });
      },
      score: (_name, texts) => {
        scoredTexts.push(...texts);
        return Promise.resolve({
          scores: texts.map((t) => (t.startsWith("good") ? 2 : -2)),
          probabilities: [],
          version: 1,
          kind: 1,
        });
      },
    };
    const data = ["a", "b", "e0"].flatMap((t) => [
      { ...rec(t, `${t}0`, false), text: `bad ${t}` },
      { ...rec(t, `${t}1`, true, 1), text: `good ${t}` },
    ]);
    const fresh = (k: number, passing: number): EvalRecord[] =>
      [0, 1, 2].map((i) => ({
        ...rec(`e${k}`, `e${k}-${i}`, i === passing),
        group_id: `e${k}`,
        text: i === passing ? `good e${k}` : `bad e${k}`,
      }));
    const candidates = [
      ...fresh(0, 2),
      ...fresh(1, 0),
      // An infrastructure failure is never a candidate.
      { ...rec("e1", "e1-3", false), group_id: "e1", failure: "SANDBOX_ERROR", text: "good but broken" },
    ];
    const report = await evaluateBestOfN(fake, data, { n: 4, testFrac: 0.5, steps: 2, batch: 4, seed: 3 }, candidates);
    assert.equal(report.trainTasks, 2, "task e0 is a candidate task: its data never trains the RM");
    assert.ok(trainedTexts.every((t) => !t.endsWith("e0")));
    assert.equal(report.testTasks, 2);
    assert.equal(report.groups, 2);
    assert.ok(!scoredTexts.includes("good but broken"));
    assert.equal(report.passAt1Rm, 1);
    assert.ok(Math.abs(report.passAt1Random - 1 / 3) < 1e-12);
    assert.equal(report.passAtNOracle, 1);
  });

  void it("parses the failure of an eval-samples line", () => {
    const line = JSON.stringify({ ...rec("t", "x", false), failure: "ENGINE_TIMEOUT" });
    const ok = JSON.stringify({ ...rec("t", "y", true), failure: "" });
    const [broken, fine] = parseRecords(`${line}\n${ok}\n`, "eval-samples.jsonl");
    assert.equal(broken!.failure, "ENGINE_TIMEOUT");
    assert.equal(fine!.failure, undefined);
    assert.deepEqual(
      candidateGroups([broken!, fine!, { ...fine!, trajectory_id: "z" }], 4).map((g) => g.map((r) => r.trajectory_id)),
      [["y", "z"]],
    );
  });
});
