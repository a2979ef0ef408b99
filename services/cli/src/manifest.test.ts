import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, SpecError } from "@sluice/common";
import { loadManifest } from "./manifest.js";

const example = (name: string): string => join(REPO_ROOT, "examples", name);

void test("--max-restarts replaces spec.restart.maxRestarts", () => {
  assert.equal(loadManifest(example("toy-chaos.yaml")).spec.restart.maxRestarts, 12);
  assert.equal(loadManifest(example("toy-chaos.yaml"), { maxRestarts: 0 }).spec.restart.maxRestarts, 0);
  assert.equal(loadManifest(example("toy.yaml")).spec.restart.maxRestarts, 0, "restarts are off by default");
});

void test("--max-restarts needs checkpoints to resume from", () => {
  assert.throws(
    () => loadManifest(example("toy.yaml"), { maxRestarts: 2 }),
    (err: unknown) =>
      err instanceof SpecError && /--max-restarts 2 needs learner\.checkpointEvery >= 1/.test(err.message),
  );
});
