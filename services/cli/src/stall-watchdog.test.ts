import assert from "node:assert/strict";
import { test } from "node:test";
import { StallWatchdog } from "./stall-watchdog.js";

void test("reports a stall only when the step does not advance for the timeout", () => {
  const w = new StallWatchdog(1000, 0);
  assert.equal(w.observe(0, 0), undefined);
  assert.equal(w.observe(0, 999), undefined);
  assert.equal(w.observe(1, 1500), undefined);
  assert.equal(w.observe(1, 2400), undefined);
  assert.match(w.observe(1, 2500) ?? "", /stuck at 1 for 1000 ms/);
});
