import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RpcError, contracts, type RewardModelApi } from "@sluice/common";
import { AnnotationTexts } from "./annotation-texts.js";
import { oniSchema } from "./config.js";
import { RewardModelTrainer, targetOf, type LabelSource } from "./rm-trainer.js";

type TrainReq = Parameters<RewardModelApi["train"]>[0];

class FakeRm {
  readonly calls: TrainReq[] = [];
  failNext = 0;
  train(req: TrainReq): Promise<contracts.TrainRewardModelResponse> {
    if (this.failNext-- > 0) return Promise.reject(new RpcError("RewardModel.Train", 14, "down"));
    this.calls.push(req);
    const n = this.calls.length;
    return Promise.resolve({ loss: 1 / n, accuracy: 0.5, accuracyCount: 1, version: n, steps: n, gradNorm: 1 });
  }
}

class Labels implements LabelSource {
  readonly map = new Map<string, number>();
  version = 0;
  set(k: string, v: number): void {
    this.map.set(k, v);
    this.version++;
  }
  entries(): IterableIterator<[string, number]> {
    return this.map.entries();
  }
  get size(): number {
    return this.map.size;
  }
}

function setup(rewardType: "classification" | "ranking", burstUntilLabels = 25_000) {
  const config = oniSchema.parse({
    rewardType,
    schedule: { burstSteps: 3, steadySteps: 1, batchSize: 2, burstUntilLabels },
  });
  const rm = new FakeRm();
  const labels = new Labels();
  const texts = new AnnotationTexts(100);
  const trainer = new RewardModelTrainer({ config, rm, labels, texts });
  return { rm, labels, texts, trainer };
}

void describe("ONI reward-model trainer", () => {
  test("bursts burstSteps per arrival of new labels, none without, on labels whose text is known", async () => {
    const { rm, labels, texts, trainer } = setup("classification");
    assert.deepEqual(await trainer.tick(), { steps: 0, failed: 0, trainable: 0 });
    texts.addText("a", "text a");
    texts.addText("b", "text b");
    labels.set("a", 1);
    labels.set("b", 3); // clamped to 1
    labels.set("unknown-text", 0);
    const r = await trainer.tick();
    assert.equal(r.steps, 3);
    assert.equal(r.trainable, 2);
    assert.equal(trainer.version, 3);
    assert.equal(rm.calls[0]?.examples?.length, 2);
    assert.deepEqual(rm.calls[0]?.examples?.map((e) => e.label).sort(), [1, 1]);
    assert.equal(rm.calls[0]?.optimizer?.learningRate, 1e-4); // ONI Adam lr
    assert.equal((await trainer.tick()).steps, 0); // no new labels
    labels.set("a", 0);
    assert.equal((await trainer.tick()).steps, 3);
  });

  test("switches to steadySteps per iteration once the labelled set reaches burstUntilLabels", async () => {
    const { labels, texts, trainer } = setup("classification", 2);
    texts.addText("a", "x");
    labels.set("a", 1);
    assert.equal((await trainer.tick()).steps, 3); // |D| = 1 < 2
    labels.set("b", 0);
    assert.equal((await trainer.tick()).steps, 1); // |D| = 2 ≥ 2
    assert.equal((await trainer.tick()).steps, 1); // every iteration, new labels or not
  });

  test("ranking trains on labelled pairs with soft labels", async () => {
    const { rm, labels, texts, trainer } = setup("ranking");
    texts.addText("s1", "first step");
    texts.addText("s2", "second step");
    texts.addPair("p", { first: "s1", second: "s2" });
    labels.set("p", 0.5);
    assert.equal((await trainer.tick()).steps, 3);
    assert.deepEqual(rm.calls[0]?.pairs, [{ first: "first step", second: "second step", label: 0.5 }]);
    assert.deepEqual(rm.calls[0]?.examples, []);
  });

  test("a failed step stops the burst and the labels stay new for the next tick", async () => {
    const { rm, labels, texts, trainer } = setup("classification");
    texts.addText("a", "x");
    labels.set("a", 1);
    rm.failNext = 1;
    assert.deepEqual(await trainer.tick(), { steps: 0, failed: 1, trainable: 1 });
    assert.equal((await trainer.tick()).steps, 3);
  });

  test("targets are clamped into [0, 1]", () => {
    assert.deepEqual([-1, 0, 0.5, 1, 2].map(targetOf), [0, 0, 0.5, 1, 1]);
  });
});
