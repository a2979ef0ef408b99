import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oniSchema } from "./config.js";
import { rewardModelSteps } from "./schedule.js";

const cfg = oniSchema.parse({}).schedule;

void describe("ONI reward-model training schedule", () => {
  test("under 25,000 labels: 32 steps per arrival of new labels, none without", () => {
    assert.equal(rewardModelSteps(0, true, cfg), 32);
    assert.equal(rewardModelSteps(24_999, true, cfg), 32);
    assert.equal(rewardModelSteps(24_999, false, cfg), 0);
  });

  test("from 25,000 labels on: 1 step per training iteration", () => {
    assert.equal(rewardModelSteps(25_000, true, cfg), 1);
    assert.equal(rewardModelSteps(25_000, false, cfg), 1);
    assert.equal(rewardModelSteps(100_000, false, cfg), 1);
  });

  test("defaults are ONI's: Adam lr 1e-4, batch 256", () => {
    assert.equal(cfg.learningRate, 1e-4);
    assert.equal(cfg.batchSize, 256);
  });
});
