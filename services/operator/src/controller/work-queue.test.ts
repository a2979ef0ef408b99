import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "./clock.js";
import { WorkQueue } from "./work-queue.js";

const LIMITS = { baseDelayMs: 100, maxDelayMs: 1_000, qps: 1_000, burst: 1_000 };

void describe("WorkQueue", () => {
  void it("queues a key once however often it is added", async () => {
    const q = new WorkQueue(new FakeClock(), LIMITS);
    q.add("ns/a");
    q.add("ns/a");
    q.add("ns/b");
    assert.equal(q.depth(), 2);
    assert.equal(await q.get(), "ns/a");
    assert.equal(await q.get(), "ns/b");
  });

  void it("never hands a key being processed to a second worker; an add meanwhile requeues it after done", async () => {
    const q = new WorkQueue(new FakeClock(), LIMITS);
    q.add("ns/a");
    const key = await q.get();
    q.add("ns/a");
    assert.equal(q.depth(), 0, "not queued while processing");
    q.done(key!);
    assert.equal(q.depth(), 1, "queued again once done");
    assert.equal(await q.get(), "ns/a");
  });

  void it("backs a failing key off exponentially up to the cap, and forget starts over", () => {
    const q = new WorkQueue(new FakeClock(), LIMITS);
    const delays = [1, 2, 3, 4, 5].map(() => q.addRateLimited("ns/a"));
    assert.deepEqual(delays, [100, 200, 400, 800, 1_000]);
    q.forget("ns/a");
    assert.equal(q.addRateLimited("ns/a"), 100);
    assert.equal(q.addRateLimited("ns/b"), 100, "backoff is per key");
  });

  void it("adds a delayed key when its time comes; of two delays the earlier wins", () => {
    const clock = new FakeClock();
    const q = new WorkQueue(clock, LIMITS);
    q.addAfter("ns/a", 500);
    q.addAfter("ns/a", 200);
    q.addAfter("ns/a", 900);
    assert.equal(q.delayedCount(), 1);
    clock.advance(199);
    assert.equal(q.depth(), 0);
    clock.advance(1);
    assert.equal(q.depth(), 1);
    clock.advance(1_000);
    assert.equal(q.depth(), 1, "the later delays were dropped");
  });

  void it("limits overall retries with a token bucket", () => {
    const clock = new FakeClock();
    const q = new WorkQueue(clock, { baseDelayMs: 1, maxDelayMs: 1, qps: 10, burst: 2 });
    assert.equal(q.addRateLimited("a"), 1);
    assert.equal(q.addRateLimited("b"), 1);
    assert.equal(q.addRateLimited("c"), 100, "the third retry in the same instant waits for a token");
  });

  void it("wakes a waiting worker and releases every waiter on shutdown", async () => {
    const q = new WorkQueue(new FakeClock(), LIMITS);
    const waiting = q.get();
    q.add("ns/a");
    assert.equal(await waiting, "ns/a");
    const idle = q.get();
    q.shutdown();
    assert.equal(await idle, undefined);
    q.add("ns/b");
    assert.equal(q.depth(), 0, "a shut-down queue takes nothing");
  });
});
