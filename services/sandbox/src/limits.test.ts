import { test } from "node:test";
import assert from "node:assert/strict";
import { clampLimits, orDefault } from "./limits.js";

const configured = { memoryBytes: 1000, maxProcesses: 64, maxFileBytes: 500, maxOpenFiles: 100, cpuSeconds: 60 };

void test("requests may tighten limits but never loosen them", () => {
  const l = clampLimits(configured, { memoryBytes: 10, maxProcesses: 1000, maxFileBytes: 0 });
  assert.deepEqual(l, { memoryBytes: 10, maxProcesses: 64, maxFileBytes: 500, maxOpenFiles: 100, cpuSeconds: 60 });
  assert.deepEqual(clampLimits(configured, undefined), configured);
});

void test("zero means the default and values are capped", () => {
  assert.equal(orDefault(0, 50, 100), 50);
  assert.equal(orDefault(70, 50, 100), 70);
  assert.equal(orDefault(700, 50, 100), 100);
});
