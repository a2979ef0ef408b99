import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  ensureExperimentStreams,
  experimentSubjects,
  KV_KEYS,
  openKv,
  openObjectStore,
  sleep,
  validateTrajectory,
  waitFor,
  experimentSpecSchema,
  type EventInput,
  type KV,
  type NatsHandles,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { Actor, type ActorSummary } from "./actor.js";
import { KvAdmissionStore } from "./admission-store.js";
import { GatewayClient } from "./gateway-client.js";
import { countingScript, startFakeGateway, type FakeGateway } from "./testing/fake-gateway.js";

const EXP = "actor-it";
const names = experimentSubjects(EXP);

void describe("actor against a real nats-server", () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let kv: KV;
  let gw: FakeGateway;

  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "actor-it");
    await ensureExperimentStreams(nats.jsm, EXP);
    kv = await openKv(nats.nc, names.kvBucket);
    gw = await startFakeGateway(countingScript);
  });
  after(async () => {
    await gw?.close();
    await nats?.close();
    await server?.stop();
  });

  const trajCount = async (): Promise<number> => (await nats.jsm.streams.info(names.trajStream)).state.messages;
  const publishPolicy = (version: number) =>
    kv.put(
      KV_KEYS.policy,
      contracts.PolicyRecord.encode({ version, weightsUri: "", publishedAtMs: Date.now(), step: version }).finish(),
    );

  void it("publishes exactly steps·B·G trajectories, holding back under η=0 until the policy advances", async () => {
    const spec = experimentSpecSchema.parse({
      steps: 3,
      seed: 11,
      environment: { name: "digits", config: { turns: 2 } },
      rollout: { groupSize: 2, groupsPerStep: 2, maxStaleness: 0, maxConcurrentEpisodes: 8, episodeTimeoutMs: 5_000 },
      watchdog: { stallTimeoutMs: 300 },
    });
    const events: EventInput[] = [];
    const actor = new Actor({
      actorId: "actor-0",
      experiment: EXP,
      spec,
      nats,
      kv,
      blobs: await openObjectStore(nats.nc, names.blobBucket),
      gateway: new GatewayClient({ baseUrl: gw.url, model: "policy", requestTimeoutMs: 5_000 }),
      logger: createLogger({ experiment: EXP, component: "actor", level: "error" }),
      registry: createMetricsRegistry("actor", EXP),
      events: { emit: async (e) => void events.push(e) },
      pollIntervalMs: 25,
    });
    const ac = new AbortController();
    const run: Promise<ActorSummary> = actor.run(ac.signal);
    try {
      // No policy yet: nothing is admitted and the watchdog speaks up.
      await waitFor(
        () => (events.some((e) => e.kind === "actor_stalled") ? true : undefined),
        5_000,
        "actor_stalled event",
      );
      assert.equal(await trajCount(), 0);

      const perStep = 2 * 2;
      for (let v = 0; v < 3; v++) {
        await publishPolicy(v);
        await waitFor(
          async () => ((await trajCount()) >= perStep * (v + 1) ? true : undefined),
          10_000,
          `trajectories of v${v}`,
        );
        // η=0: nothing more is admitted until the learner publishes the next version.
        await sleep(200);
        assert.equal(await trajCount(), perStep * (v + 1), `exactly B·G trajectories under v${v}`);
      }
      const summary = await Promise.race([run, sleep(10_000).then(() => undefined)]);
      assert.deepEqual(summary, { reason: "budget_exhausted", groupsAdmitted: 6, trajectoriesPublished: 12 });
      assert.ok(events.some((e) => e.kind === "actor_budget_exhausted"));
      assert.equal(
        (await new KvAdmissionStore(kv, { groupsPerStep: 2, maxStaleness: 0, steps: 3 }).read()).admittedGroups,
        6,
      );
    } finally {
      ac.abort();
      await run.catch(() => undefined);
    }

    const consumer = await nats.js.consumers.get(names.trajStream);
    const msgs = await consumer.fetch({ max_messages: 100, expires: 1_000 });
    const ids: string[] = [];
    const trajectories: contracts.Trajectory[] = [];
    for await (const m of msgs) {
      ids.push(m.headers?.get("Nats-Msg-Id") ?? "");
      const t = contracts.Trajectory.decode(m.data);
      validateTrajectory(t);
      trajectories.push(t);
      if (trajectories.length === 12) break;
    }
    assert.equal(trajectories.length, 12);
    assert.equal(new Set(ids).size, 12, "dedupe ids are unique");
    assert.deepEqual(
      ids,
      trajectories.map((t) => t.trajectoryId),
    );
    const byGroup = new Map<string, contracts.Trajectory[]>();
    for (const t of trajectories) byGroup.set(t.groupId, [...(byGroup.get(t.groupId) ?? []), t]);
    assert.equal(byGroup.size, 6);
    for (const group of byGroup.values()) {
      assert.equal(group.length, 2);
      assert.equal(new Set(group.map((t) => t.taskId)).size, 1, "a group shares its task");
      assert.deepEqual(group.map((t) => t.indexInGroup).sort(), [0, 1]);
    }
    const versions = trajectories.map((t) => t.admittedPolicyVersion).sort();
    assert.deepEqual(versions, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    assert.ok(trajectories.every((t) => t.failure === contracts.FailureKind.FAILURE_KIND_NONE));
    assert.ok(trajectories.every((t) => t.outcome?.level === contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED));
  });
});

void describe("actor shutdown", () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let gw: FakeGateway;
  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "shutdown-it");
    gw = await startFakeGateway(() => ({ content: "1", delayMs: 3_000 }));
  });
  after(async () => {
    await gw?.close();
    await nats?.close();
    await server?.stop();
  });

  void it("publishes no partial episodes and gives back the unfinished groups' slots", async () => {
    const exp = "actor-stop";
    const n = experimentSubjects(exp);
    await ensureExperimentStreams(nats.jsm, exp);
    const kv = await openKv(nats.nc, n.kvBucket);
    await kv.put(
      KV_KEYS.policy,
      contracts.PolicyRecord.encode({ version: 0, weightsUri: "", publishedAtMs: 0, step: 0 }).finish(),
    );
    const spec = experimentSpecSchema.parse({
      steps: 2,
      environment: { name: "digits" },
      rollout: { groupSize: 2, groupsPerStep: 2, maxStaleness: 0 },
    });
    const actor = new Actor({
      actorId: "actor-1",
      experiment: exp,
      spec,
      nats,
      kv,
      gateway: new GatewayClient({ baseUrl: gw.url, model: "policy", requestTimeoutMs: 10_000 }),
      logger: createLogger({ experiment: exp, component: "actor", level: "error" }),
      registry: createMetricsRegistry("actor", exp),
      events: { emit: async () => undefined },
      pollIntervalMs: 25,
    });
    const store = new KvAdmissionStore(kv, { groupsPerStep: 2, maxStaleness: 0, steps: 2 });
    const ac = new AbortController();
    const run = actor.run(ac.signal);
    await waitFor(
      async () => ((await store.read()).admittedGroups === 2 ? true : undefined),
      5_000,
      "two groups admitted",
    );
    await sleep(100);
    ac.abort();
    const summary = await Promise.race([run, sleep(5_000).then(() => "hung" as const)]);
    assert.notEqual(summary, "hung");
    assert.equal((await nats.jsm.streams.info(n.trajStream)).state.messages, 0);
    // Both groups are given back: still admitted (same ordinals, same tasks), but their
    // leases have ended, so the next actor to ask runs them again without new budget.
    const after = await store.read();
    assert.equal(after.admittedGroups, 2);
    assert.deepEqual(
      Object.values(after.inflight).map((g) => g.leaseUntilMs),
      [0, 0],
    );
    const next = new KvAdmissionStore(kv, { groupsPerStep: 2, maxStaleness: 0, steps: 2 }, { actorId: "actor-2" });
    const reclaimed = [await next.tryAdmit(0), await next.tryAdmit(0)];
    assert.deepEqual(reclaimed.map((r) => (r.admitted ? [r.ordinal, r.reclaimed] : r.reason)).sort(), [
      [0, true],
      [1, true],
    ]);
  });
});

void describe("KV admission counter", () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "admission-it");
  });
  after(async () => {
    await nats?.close();
    await server?.stop();
  });

  void it("never over-admits when several actors race for the last slots", async () => {
    const kv = await openKv(nats.nc, "sluice_race");
    const config = { groupsPerStep: 3, maxStaleness: 1, steps: 10 };
    const stores = [
      new KvAdmissionStore(kv, config),
      new KvAdmissionStore(kv, config),
      new KvAdmissionStore(kv, config),
    ];
    const attempts = Array.from({ length: 15 }, (_, i) => stores[i % 3]!.tryAdmit(0));
    const results = await Promise.all(attempts);
    const ordinals = results.flatMap((r) => (r.admitted ? [r.ordinal] : []));
    assert.deepEqual(
      ordinals.sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5],
      "(η+v+1)·B = 6 under v0",
    );
    assert.ok(results.filter((r) => !r.admitted).every((r) => !r.admitted && r.reason === "staleness"));
    assert.equal((await stores[0]!.read()).admittedGroups, 6);
  });

  void it("runs a killed actor's groups again once their lease expires, never spending new budget", async () => {
    const kv = await openKv(nats.nc, "sluice_lease");
    const config = { groupsPerStep: 2, maxStaleness: 0, steps: 1 };
    let now = 1_000;
    const clock = () => now;
    const dead = new KvAdmissionStore(kv, config, { actorId: "dead", leaseMs: 10_000, now: clock });
    const alive = new KvAdmissionStore(kv, config, { actorId: "alive", leaseMs: 10_000, now: clock });
    assert.deepEqual(await dead.tryAdmit(0), { admitted: true, ordinal: 0, reclaimed: false });
    assert.deepEqual(await alive.tryAdmit(0), { admitted: true, ordinal: 1, reclaimed: false });
    // Budget spent while "dead"'s group is in flight: wait, do not leave.
    assert.deepEqual(await alive.tryAdmit(0), { admitted: false, reason: "waiting" });
    await alive.complete(1);
    now += 5_000;
    assert.equal(await alive.renew(), 0, "alive holds nothing after completing");
    assert.deepEqual(await alive.tryAdmit(0), { admitted: false, reason: "waiting" }, "lease still valid");
    now += 6_000; // "dead" never renewed: its lease (until 11 000) has expired
    assert.deepEqual(await alive.tryAdmit(0), { admitted: true, ordinal: 0, reclaimed: true });
    const r = await alive.read();
    assert.equal(r.admittedGroups, 2);
    assert.equal(r.inflight["0"]?.actor, "alive");
    await alive.complete(0);
    assert.deepEqual(await alive.tryAdmit(0), { admitted: false, reason: "budget" });
  });

  void it("a renewed lease is not reclaimed", async () => {
    const kv = await openKv(nats.nc, "sluice_renew");
    let now = 0;
    const a = new KvAdmissionStore(
      kv,
      { groupsPerStep: 1, maxStaleness: 0, steps: 1 },
      { actorId: "a", leaseMs: 1_000, now: () => now },
    );
    const b = new KvAdmissionStore(
      kv,
      { groupsPerStep: 1, maxStaleness: 0, steps: 1 },
      { actorId: "b", leaseMs: 1_000, now: () => now },
    );
    await a.tryAdmit(0);
    for (let i = 0; i < 5; i++) {
      now += 600;
      assert.equal(await a.renew(), 1);
      assert.deepEqual(await b.tryAdmit(0), { admitted: false, reason: "waiting" });
    }
    await assert.rejects(
      (async () => {
        await kv.put("admission", "{not json");
        await b.read();
      })(),
      /admission record: value is not JSON/,
    );
  });

  void it("gives the slots of groups the learner dropped whole back to admission", async () => {
    const kv = await openKv(nats.nc, "sluice_refunds");
    const store = new KvAdmissionStore(kv, { groupsPerStep: 2, maxStaleness: 1, steps: 1 }, { actorId: "a" });
    await store.tryAdmit(0);
    await store.tryAdmit(0);
    await store.complete(0);
    await store.complete(1);
    assert.deepEqual(await store.tryAdmit(5), { admitted: false, reason: "budget" });
    // The learner dropped one of them whole (all stale): one more group may run, a new one.
    await kv.put(KV_KEYS.admissionRefunds, JSON.stringify({ groups: 1 }));
    assert.equal(await store.refunds(), 1);
    assert.deepEqual(await store.tryAdmit(5), { admitted: true, ordinal: 2, reclaimed: false });
    await store.complete(2);
    assert.deepEqual(await store.tryAdmit(5), { admitted: false, reason: "budget" });
    await kv.put(KV_KEYS.admissionRefunds, "[1]");
    await assert.rejects(store.refunds(), /admission_refunds: groups must be a non-negative integer/);
  });
});
