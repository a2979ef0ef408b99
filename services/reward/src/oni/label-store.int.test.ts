import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LabelSnapshotError, connectNats, createLogger, requestLabelSnapshot, type NatsHandles } from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { KvLabelStore, labelBucketName, readSnapshot, retrievalReward } from "./label-store.js";
import { serveLabelSnapshots } from "./snapshot-responder.js";

void describe("ONI label store in NATS KV", { timeout: 30_000 }, () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  const dir = mkdtempSync(join(tmpdir(), "oni-labels-"));
  const bucket = labelBucketName("oni-it");

  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "oni-labels-it", 5_000);
  });
  after(async () => {
    await nats?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("bucket name follows sluice_<exp>_oni_labels", () => {
    assert.equal(bucket, "sluice_oni_it_oni_labels");
  });

  test("labels survive closing and reopening the connection; version grows", async () => {
    const store = await KvLabelStore.open(nats.nc, bucket);
    assert.equal(store.version, 0);
    const v1 = await store.putMany(
      new Map([
        ["aa", 1],
        ["bb", 0],
      ]),
    );
    const v2 = await store.put("cc", 0.5);
    assert.ok(v2 > v1 && v1 > 0);
    assert.equal(retrievalReward(store, "aa"), 1);
    assert.equal(retrievalReward(store, "unknown"), 0);
    await nats.close();

    nats = await connectNats(server.url, "oni-labels-it-2", 5_000);
    const reopened = await KvLabelStore.open(nats.nc, bucket);
    assert.equal(reopened.size, 3);
    assert.equal(reopened.get("cc"), 0.5);
    assert.equal(reopened.version, v2);
  });

  test("snapshot → new bucket → restore gives the same labels", async () => {
    const store = await KvLabelStore.open(nats.nc, bucket);
    const path = join(dir, "labels.json");
    const snap = await store.snapshot(path);
    assert.equal(snap.version, store.version);
    assert.equal((await readSnapshot(path)).labels["aa"], 1);

    const fresh = await KvLabelStore.open(nats.nc, labelBucketName("oni-it-restored"));
    assert.equal(fresh.size, 0);
    assert.equal(await fresh.restore(path), 3);
    const again = await KvLabelStore.open(nats.nc, labelBucketName("oni-it-restored"));
    assert.deepEqual(new Map(again.entries()), new Map(store.entries()));
  });

  test("the learner's checkpoint asks for a snapshot and, on resume, a restore (request-reply)", async () => {
    const store = await KvLabelStore.open(nats.nc, labelBucketName("oni-it-ckpt"));
    await store.putMany(
      new Map([
        ["k1", 1],
        ["k2", 0],
      ]),
    );
    const logger = createLogger({ experiment: "oni-it-ckpt", component: "reward", write: () => undefined });
    const responder = serveLabelSnapshots("oni-it-ckpt", nats, store, logger);
    try {
      const path = join(dir, "ckpt-labels.json");
      const snap = await requestLabelSnapshot(nats.nc, "oni-it-ckpt", "snapshot", path, 5_000);
      assert.deepEqual(snap, { version: store.version, labels: 2 });
      assert.deepEqual((await readSnapshot(path)).labels, { k1: 1, k2: 0 });
      // A label written after the checkpoint is not undone, but the checkpoint's come back.
      await store.put("k1", 0);
      const restored = await requestLabelSnapshot(nats.nc, "oni-it-ckpt", "restore", path, 5_000);
      assert.equal(restored.labels, 2);
      assert.equal(store.get("k1"), 1);
      // A bad path is an error reply, not a hang; nobody listening is a timeout error.
      await assert.rejects(
        requestLabelSnapshot(nats.nc, "oni-it-ckpt", "restore", join(dir, "missing.json"), 5_000),
        LabelSnapshotError,
      );
    } finally {
      responder.stop();
    }
    await assert.rejects(
      requestLabelSnapshot(nats.nc, "oni-it-nobody", "snapshot", join(dir, "x.json"), 500),
      LabelSnapshotError,
    );
  });
});
