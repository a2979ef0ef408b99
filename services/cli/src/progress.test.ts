import assert from "node:assert/strict";
import { test } from "node:test";
import { rateOver, RateMeter, renderBar, renderProgress } from "./progress.js";

void test("renders the progress line", () => {
  const line = renderProgress(
    { step: 12, totalSteps: 40, reward: 0.4321, policyVersion: 12, trajPerSecond: 35.24 },
    10,
  );
  assert.equal(line, "step 12/40 |███░░░░░░░| reward 0.43  v12  traj/s 35.2");
});

void test("shows dashes before any reward or rate is known", () => {
  const line = renderProgress(
    { step: 0, totalSteps: 5, reward: undefined, policyVersion: 0, trajPerSecond: undefined },
    4,
  );
  assert.equal(line, "step 0/5 |░░░░| reward -  v0  traj/s -");
});

void test("the bar is clamped to its width", () => {
  assert.equal(renderBar(50, 40, 4), "████");
  assert.equal(renderBar(-1, 40, 4), "░░░░");
  assert.equal(renderBar(1, 0, 4), "░░░░");
});

void test("rate is computed over the window only", () => {
  assert.equal(rateOver([], 1000), undefined);
  assert.equal(rateOver([{ timeMs: 0, count: 0 }], 1000), undefined);
  assert.equal(
    rateOver(
      [
        { timeMs: 0, count: 0 },
        { timeMs: 1000, count: 10 },
      ],
      5000,
    ),
    10,
  );
  // The sample at t=0 is outside a 1.5 s window ending at t=3000.
  assert.equal(
    rateOver(
      [
        { timeMs: 0, count: 0 },
        { timeMs: 2000, count: 100 },
        { timeMs: 3000, count: 130 },
      ],
      1500,
    ),
    30,
  );
  const m = new RateMeter(2000);
  for (let t = 0; t <= 10_000; t += 500) m.add(t, t / 100);
  assert.equal(m.rate(), 10);
});
