import assert from "node:assert/strict";
import { test } from "node:test";
import { createMetricsRegistry } from "@sluice/common";
import { registerPoolMetrics } from "./pool-metrics.js";

void test("the warm pool's gauges read the pool at scrape time", async () => {
  const registry = createMetricsRegistry("sandbox", "exp");
  let counts = { idle: 1, busy: 2, starting: 0 };
  registerPoolMetrics(registry, { counts: () => counts }, 4);
  const first = await registry.metrics();
  assert.match(first, /^sluice_sandbox_pool_warm\{[^}]*\} 1$/m);
  assert.match(first, /^sluice_sandbox_pool_warm_target\{[^}]*\} 4$/m);
  assert.match(first, /^sluice_sandbox_pool_pods\{state="busy"[^}]*\} 2$/m);
  counts = { idle: 3, busy: 0, starting: 1 };
  const second = await registry.metrics();
  assert.match(second, /^sluice_sandbox_pool_warm\{[^}]*\} 3$/m);
  assert.match(second, /^sluice_sandbox_pool_pods\{state="starting"[^}]*\} 1$/m);
});
