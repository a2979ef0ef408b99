import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.js");
const dir = mkdtempSync(join(tmpdir(), "sluice-cli-main-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function sluice(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD = `apiVersion: sluice.dev/v1alpha1
kind: RLExperiment
metadata: {name: ok-exp}
spec: {steps: 2, environment: {name: digits}}
`;

void test("validate prints ok for a good manifest", () => {
  const f = join(dir, "good.yaml");
  writeFileSync(f, GOOD);
  const r = sluice("validate", "-f", f);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ok/);
});

void test("validate names each bad field and exits 2", () => {
  const f = join(dir, "bad.yaml");
  writeFileSync(f, GOOD.replace("steps: 2", "steps: 0, rollout: {groupSize: 0, grupsPerStep: 2}"));
  const r = sluice("validate", "-f", f);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /spec\.steps/);
  assert.match(r.stderr, /spec\.rollout\.groupSize/);
  assert.match(r.stderr, /spec\.rollout: unknown field\(s\) grupsPerStep/);
});

void test("up with an invalid manifest exits 2 before starting anything", () => {
  const f = join(dir, "bad-up.yaml");
  writeFileSync(f, GOOD.replace("name: digits", "name: ''"));
  const r = sluice("up", "-f", f, "--run-dir", join(dir, "never"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /spec\.environment\.name/);
});

void test("unknown flags and a missing -f print usage and exit 2", () => {
  for (const args of [["up", "-f", "x", "--nope"], ["up"], ["validate"], ["frobnicate"]]) {
    const r = sluice(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /usage: sluice/);
  }
});

void test("--help prints usage and exits 0", () => {
  const r = sluice("--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /sluice <command>/);
});

void test("a missing manifest file is a spec error", () => {
  const r = sluice("validate", "-f", join(dir, "missing.yaml"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read file/);
});
