import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  CHECKPOINT_FORMAT,
  checkpointDir,
  latestCheckpoint,
  readCheckpointRecord,
  writeCheckpointRecord,
  type CheckpointRecord,
} from "./checkpoint-store.js";

function record(step: number): CheckpointRecord {
  return {
    format: CHECKPOINT_FORMAT,
    step,
    policy_version: step,
    trajectories_trained: 4 * step,
    trajectories_dropped: { stale: 1 },
    reward_mean_by_step: new Array<number>(step).fill(0.5),
    completion_rate_by_step: new Array<number>(step).fill(1),
    consumed_ids: ["a", "b"],
    consumed_seqs: [4, 9],
  };
}

void describe("checkpoint store", () => {
  void it("round-trips a record", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "ckpt-")), "x");
    writeCheckpointRecord(dir, record(3));
    assert.deepEqual(readCheckpointRecord(dir), record(3));
  });

  void it("finds the newest complete checkpoint and skips interrupted and corrupt ones", () => {
    const run = mkdtempSync(join(tmpdir(), "ckpt-"));
    assert.equal(latestCheckpoint(run), undefined);
    writeCheckpointRecord(checkpointDir(run, 2), record(2));
    writeCheckpointRecord(checkpointDir(run, 10), record(10));
    // step 12: weights written, record never (a crash mid-checkpoint)
    mkdirSync(checkpointDir(run, 12), { recursive: true });
    // step 11: a corrupt record
    mkdirSync(checkpointDir(run, 11), { recursive: true });
    writeFileSync(join(checkpointDir(run, 11), "learner.json"), "{not json");
    const skipped: string[] = [];
    const found = latestCheckpoint(run, (dir) => skipped.push(dir));
    assert.equal(found?.record.step, 10);
    assert.equal(found?.dir, checkpointDir(run, 10));
    assert.deepEqual(skipped, [checkpointDir(run, 11)]);
  });

  void it("names the file when a record has the wrong shape", () => {
    const dir = mkdtempSync(join(tmpdir(), "ckpt-"));
    writeFileSync(join(dir, "learner.json"), JSON.stringify({ format: "other", step: 1 }));
    assert.throws(() => readCheckpointRecord(dir), /learner\.json: not a sluice-learner-checkpoint\/1 record/);
  });
});
