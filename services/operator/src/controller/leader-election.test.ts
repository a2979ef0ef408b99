import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPES } from "../kube/resources.js";
import { FakeKubeApi } from "../testing/fake-kube-api.js";
import { testLogger } from "../testing/fakes.js";
import { FakeClock } from "./clock.js";
import { LeaderElector, microTime } from "./leader-election.js";

const TIMINGS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Lets the elector's pending promise chains run (the fake API answers in microtasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function candidate(api: FakeKubeApi, clock: FakeClock, identity: string) {
  const log: string[] = [];
  const elector = new LeaderElector({
    api,
    clock,
    logger: testLogger(),
    namespace: "sluice-system",
    leaseName: "sluice-operator",
    identity,
    ...TIMINGS,
    onStartedLeading: () => log.push("start"),
    onStoppedLeading: () => log.push("stop"),
  });
  return { elector, log };
}

async function tick(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    clock.advance(500);
    await settle();
  }
}

async function lease(api: FakeKubeApi): Promise<Record<string, unknown>> {
  const l = await api.get({ ...TYPES.lease, namespace: "sluice-system", name: "sluice-operator" });
  return (l?.spec ?? {}) as Record<string, unknown>;
}

void describe("LeaderElector", () => {
  void it("one of two candidates leads; the other waits while the lease is renewed", async () => {
    const api = new FakeKubeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, "a");
    const b = candidate(api, clock, "b");
    a.elector.start();
    await settle();
    b.elector.start();
    await tick(clock, 60_000);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.equal((await lease(api)).holderIdentity, "a");
    assert.deepEqual(b.log, []);
    await a.elector.stop();
    await b.elector.stop();
  });

  void it("a crashed leader's lease is taken over once it has not changed for leaseDuration", async () => {
    const api = new FakeKubeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, "a");
    const b = candidate(api, clock, "b");
    a.elector.start();
    await settle();
    b.elector.start();
    await tick(clock, 4_000);
    await a.elector.stop(false); // a crash: no release
    const crashedAt = clock.now();
    await tick(clock, 14_000);
    assert.equal(b.elector.isLeader(), false, "not before the lease expires");
    await tick(clock, 4_000);
    assert.equal(b.elector.isLeader(), true);
    assert.ok(clock.now() - crashedAt >= TIMINGS.leaseDurationMs);
    const l = await lease(api);
    assert.equal(l.holderIdentity, "b");
    assert.equal(l.leaseTransitions, 1);
    await b.elector.stop();
  });

  void it("a leader that stops gracefully releases the lease so the other takes over at the next retry", async () => {
    const api = new FakeKubeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, "a");
    const b = candidate(api, clock, "b");
    a.elector.start();
    await settle();
    b.elector.start();
    await tick(clock, 4_000);
    await a.elector.stop(true);
    await tick(clock, 3_000);
    assert.equal(b.elector.isLeader(), true);
    await b.elector.stop();
  });

  void it("a leader that cannot renew within renewDeadline steps down", async () => {
    const api = new FakeKubeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, "a");
    a.elector.start();
    await tick(clock, 2_000);
    assert.equal(a.elector.isLeader(), true);
    for (let i = 0; i < 10; i++) api.failNext("replace", "Lease", 503);
    await tick(clock, 12_000);
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.log, ["start", "stop"]);
    await a.elector.stop();
  });

  void it("writes MicroTime with six fractional digits", () => {
    assert.equal(microTime(Date.parse("2026-01-02T03:04:05.678Z")), "2026-01-02T03:04:05.678000Z");
  });
});
