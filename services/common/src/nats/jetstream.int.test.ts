import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterEach, describe, it } from "node:test";
import { headers } from "@nats-io/transport-node";
import { startNatsServer, type NatsServerHandle } from "../testing/nats-server.js";
import { connectNats, openKv, openObjectStore, type NatsHandles } from "./connection.js";
import { ensureDurableConsumer, fetchBatch, type JsMsg } from "./consumer.js";
import { ConsumerPump } from "./consumer-pump.js";
import { DedupePublisher, resolvePayload } from "./publisher.js";
import { ensureExperimentStreams, ensureStream } from "./streams.js";
import { BLOB_HEADER, experimentSubjects } from "./subjects.js";

const STREAM = "T";
const SUBJECT = "t.msgs";

/** Per-test resources, released in afterEach even when the test fails. */
let server: NatsServerHandle | undefined;
const conns: NatsHandles[] = [];

async function setup(maxPayloadBytes?: number, maxFileStoreBytes?: number): Promise<NatsHandles> {
  server = await startNatsServer({
    ...(maxPayloadBytes ? { maxPayloadBytes } : {}),
    ...(maxFileStoreBytes ? { maxFileStoreBytes } : {}),
  });
  return connection("test");
}

async function connection(name: string): Promise<NatsHandles> {
  if (!server) throw new Error("server not started");
  const nats = await connectNats(server.url, name, 5_000);
  conns.push(nats);
  return nats;
}

afterEach(async () => {
  for (const c of conns.splice(0)) await c.close().catch(() => undefined);
  await server?.stop();
  server = undefined;
});

async function publishN(pub: DedupePublisher, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await pub.publish(SUBJECT, new TextEncoder().encode(`m${i}`), `id-${i}`);
}

void describe("jetstream helpers against a real nats-server", { timeout: 30_000 }, () => {
  void it("stores a message published twice with the same Nats-Msg-Id once", async () => {
    const nats = await setup();
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    const pub = new DedupePublisher(nats, undefined);
    const first = await pub.publish(SUBJECT, new Uint8Array([1, 2, 3]), "traj-1");
    const second = await pub.publish(SUBJECT, new Uint8Array([1, 2, 3]), "traj-1");
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.seq, first.seq);
    const info = await nats.jsm.streams.info(STREAM);
    assert.equal(info.state.messages, 1);
  });

  void it("redelivers an unacked message to a new consumer connection after the first one dies", async () => {
    const nats = await setup();
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    await ensureDurableConsumer(nats, { stream: STREAM, durable: "work", maxAckPending: 10, ackWaitMs: 1_000 });
    await new DedupePublisher(nats, undefined).publish(SUBJECT, new TextEncoder().encode("job"), "job-1");

    const dying = await connection("dying");
    const first = await fetchBatch(dying, STREAM, "work", 1, 1_000);
    assert.equal(first.length, 1);
    assert.equal(first[0]?.redelivered, false);
    assert.equal(first[0]?.info.deliveryCount, 1);
    await dying.nc.close(); // no ack, no nak: the consumer process is gone

    const survivor = await connection("survivor");
    const again = await fetchBatch(survivor, STREAM, "work", 1, 4_000);
    assert.equal(again.length, 1);
    const msg = again[0] as JsMsg;
    assert.equal(new TextDecoder().decode(msg.data), "job");
    assert.equal(msg.redelivered, true);
    assert.equal(msg.info.deliveryCount, 2);
    msg.ack();
  });

  void it("never redelivers a message terminated with term()", async () => {
    // Note: term("reason") is NOT safe on nats-server 2.9: it does not parse "+TERM <reason>"
    // and the message comes back after ack_wait. Call term() without an argument.
    const nats = await setup();
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    await ensureDurableConsumer(nats, { stream: STREAM, durable: "t", maxAckPending: 10, ackWaitMs: 500 });
    await publishN(new DedupePublisher(nats, undefined), 1);
    const [msg] = await fetchBatch(nats, STREAM, "t", 1, 1_000);
    assert.ok(msg);
    msg.term();
    assert.deepEqual(await fetchBatch(nats, STREAM, "t", 1, 1_500), []);
    const info = await nats.jsm.consumers.info(STREAM, "t");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_redelivered, 0);
  });

  void it("stops handing out messages at maxAckPending until acks arrive", async () => {
    const nats = await setup();
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    await ensureDurableConsumer(nats, { stream: STREAM, durable: "bp", maxAckPending: 5, ackWaitMs: 30_000 });
    await publishN(new DedupePublisher(nats, undefined), 20);

    const held = await fetchBatch(nats, STREAM, "bp", 20, 1_000);
    assert.equal(held.length, 5);
    assert.deepEqual(await fetchBatch(nats, STREAM, "bp", 20, 1_000), []);

    const seen = new Set(held.map((m) => new TextDecoder().decode(m.data)));
    let pending = held;
    for (let round = 0; round < 10 && seen.size < 20; round++) {
      for (const m of pending) await m.ackAck();
      pending = await fetchBatch(nats, STREAM, "bp", 5, 1_000);
      assert.ok(pending.length <= 5, `fetched ${pending.length} > maxAckPending`);
      for (const m of pending) seen.add(new TextDecoder().decode(m.data));
    }
    for (const m of pending) await m.ackAck();
    assert.equal(seen.size, 20);
    const info = await nats.jsm.consumers.info(STREAM, "bp");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  void it("offloads a payload over max_payload to the object store and resolves the same bytes", async () => {
    const nats = await setup(64 * 1024);
    assert.equal(nats.maxPayloadBytes, 64 * 1024);
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    const blobs = await openObjectStore(nats.nc, "blobs");
    const big = new Uint8Array(randomBytes(200 * 1024));
    const result = await new DedupePublisher(nats, blobs).publish(SUBJECT, big, "big-1");
    assert.equal(result.offloaded, true);

    await ensureDurableConsumer(nats, { stream: STREAM, durable: "big", maxAckPending: 1, ackWaitMs: 5_000 });
    const [msg] = await fetchBatch(nats, STREAM, "big", 1, 2_000);
    assert.ok(msg, "message with the blob reference was not delivered");
    assert.equal(msg.headers?.get(BLOB_HEADER), `${SUBJECT}/big-1`);
    const resolved = await resolvePayload(msg.data, msg.headers, blobs);
    assert.equal(resolved.length, big.length);
    assert.ok(Buffer.from(resolved).equals(Buffer.from(big)));
  });

  void it("refuses an oversize payload when no object store is configured", async () => {
    const nats = await setup(64 * 1024);
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    await assert.rejects(new DedupePublisher(nats, undefined).publish(SUBJECT, new Uint8Array(100 * 1024), "x"), {
      name: "TransportError",
    });
  });

  void it("passes a message without a blob header through resolvePayload unchanged", async () => {
    const data = new Uint8Array([9, 8, 7]);
    assert.equal(await resolvePayload(data, headers(), undefined), data);
    const h = headers();
    h.set(BLOB_HEADER, "missing");
    await assert.rejects(resolvePayload(data, h, undefined), { name: "TransportError" });
  });

  void it("round-trips KV values and object store blobs", async () => {
    const nats = await setup();
    const kv = await openKv(nats.nc, "sluice_kvtest");
    await kv.put("policy", new TextEncoder().encode("v1"));
    await kv.put("policy", new TextEncoder().encode("v2"));
    const entry = await kv.get("policy");
    assert.equal(entry?.string(), "v2");
    assert.equal(await kv.get("absent"), null);
    // Opening an existing bucket again is fine (every service opens it on start).
    const again = await openKv(nats.nc, "sluice_kvtest");
    assert.equal((await again.get("policy"))?.string(), "v2");

    const obj = await openObjectStore(nats.nc, "sluice_objtest");
    const bytes = new Uint8Array(randomBytes(3000));
    await obj.putBlob({ name: "weights" }, bytes);
    const back = await obj.getBlob("weights");
    assert.ok(back && Buffer.from(back).equals(Buffer.from(bytes)));
    assert.equal(await obj.getBlob("absent"), null);
    await openObjectStore(nats.nc, "sluice_objtest");
  });

  void it("ensureExperimentStreams is idempotent", async () => {
    const nats = await setup();
    await ensureExperimentStreams(nats.jsm, "exp-1");
    await new DedupePublisher(nats, undefined).publish(experimentSubjects("exp-1").traj, new Uint8Array([1]), "a");
    await ensureExperimentStreams(nats.jsm, "exp-1");
    const s = experimentSubjects("exp-1");
    for (const name of [s.trajStream, s.scoredStream, s.eventsStream]) {
      const info = await nats.jsm.streams.info(name);
      assert.equal(info.config.name, name);
    }
    assert.equal((await nats.jsm.streams.info(s.trajStream)).state.messages, 1, "second call must keep data");
  });

  void it("on a small store, experiment streams take smaller reservations instead of failing", async () => {
    const nats = await setup(undefined, 1024 ** 3);
    const first = await ensureExperimentStreams(nats.jsm, "exp-a");
    assert.ok(
      first.some((s) => s.reduced),
      "4 GiB streams cannot fit a 1 GiB store",
    );
    const total = (xs: { maxBytes: number }[]) => xs.reduce((a, s) => a + s.maxBytes, 0);
    assert.ok(total(first) <= 1024 ** 3, `reserved ${total(first)} bytes of a 1 GiB store`);
    // A second experiment on the same server still gets streams, and the first keeps its reservations.
    const second = await ensureExperimentStreams(nats.jsm, "exp-b");
    assert.ok(total(first) + total(second) <= 1024 ** 3);
    assert.deepEqual(await ensureExperimentStreams(nats.jsm, "exp-a"), first);
    // Below the floor the server's error comes through.
    await assert.rejects(
      ensureStream(nats.jsm, "HUGE", ["huge.>"], { maxBytes: 4 * 1024 ** 3, minBytes: 2 * 1024 ** 3 }),
      /insufficient storage/i,
    );
  });

  void it("ensureDurableConsumer is idempotent and updates maxAckPending", async () => {
    const nats = await setup();
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    await ensureDurableConsumer(nats, { stream: STREAM, durable: "d", maxAckPending: 5, ackWaitMs: 1_000 });
    await ensureDurableConsumer(nats, { stream: STREAM, durable: "d", maxAckPending: 7, ackWaitMs: 1_000 });
    const info = await nats.jsm.consumers.info(STREAM, "d");
    assert.equal(info.config.max_ack_pending, 7);
  });
});

void describe("ConsumerPump against a real nats-server", { timeout: 30_000 }, () => {
  void it("hands out a message as soon as it arrives, not at the end of the wait", async () => {
    const nats = await setup();
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    await ensureDurableConsumer(nats, { stream: STREAM, durable: "p", maxAckPending: 16, ackWaitMs: 10_000 });
    const pump = await ConsumerPump.start(nats, STREAM, "p");
    const waiting = pump.next(10, 5_000);
    const started = Date.now();
    await new DedupePublisher(nats, undefined).publish(SUBJECT, new Uint8Array([7]), "one");
    const got = await waiting;
    assert.equal(got.length, 1);
    assert.deepEqual([...got[0]!.data], [7]);
    // Well under the 5 s wait: delivery is pushed, not polled at expiry.
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    got[0]!.ack();
    assert.deepEqual(await pump.next(10, 300), []);
    await pump.stop();
  });

  void it("throws once stopped instead of returning nothing forever", async () => {
    const nats = await setup();
    await ensureStream(nats.jsm, STREAM, [SUBJECT]);
    await ensureDurableConsumer(nats, { stream: STREAM, durable: "p", maxAckPending: 16, ackWaitMs: 10_000 });
    const pump = await ConsumerPump.start(nats, STREAM, "p");
    await pump.stop();
    await assert.rejects(pump.next(1, 2_000), /consumer pump closed/);
  });
});
