/**
 * Transport benchmark: trajectories/s for 64 KB messages through Sluice's publish →
 * consume path (DedupePublisher with Nats-Msg-Id, durable consumer read by ConsumerPump,
 * decode and validate a Trajectory, explicit ack) vs a bare JetStream publish/consume loop on
 * the same server in the same run. Prints figures and a last line of JSON.
 *   node bench/dist/transport.js [--messages N] [--bytes B] [--rounds R]
 */
import { AckPolicy } from "@nats-io/jetstream";
import {
  DedupePublisher,
  argValue,
  connectNats,
  contracts,
  decodeTrajectory,
  ensureDurableConsumer,
  ensureStream,
  ConsumerPump,
  packFloat32,
  packInt32,
  type NatsHandles,
} from "@sluice/common";
import { startNatsServer } from "@sluice/common/internal";

const messages = Number(argValue(process.argv, "--messages") ?? 2000);
const payloadBytes = Number(argValue(process.argv, "--bytes") ?? 64 * 1024);
const rounds = Number(argValue(process.argv, "--rounds") ?? 3);
const WINDOW = 64;
const bufferMessages = Number(argValue(process.argv, "--buffer") ?? 64);

function trajectoryOfSize(id: string, bytes: number): Uint8Array {
  // Half the bytes in token ids, half in logprobs: 4 bytes per entry each.
  const tokens = Math.floor(bytes / 8);
  const ids = Array.from({ length: tokens }, (_, i) => i % 50_000);
  const turn = contracts.Turn.fromPartial({
    actionTokenIds: packInt32(ids),
    actionLogprobs: packFloat32(ids.map(() => -1.5)),
    actionPolicyVersions: packInt32(ids.map(() => 0)),
  });
  return contracts.Trajectory.encode(
    contracts.Trajectory.fromPartial({ trajectoryId: id, groupId: "g", groupSize: 1, turns: [turn] }),
  ).finish();
}

async function publishWindowed(n: number, publish: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: WINDOW }, async () => {
    while (next < n) await publish(next++);
  });
  await Promise.all(workers);
}

async function sluicePath(nats: NatsHandles, stream: string, subject: string, round: number): Promise<number> {
  await ensureStream(nats.jsm, stream, [subject]);
  await ensureDurableConsumer(nats, { stream, durable: "bench", maxAckPending: 1024, ackWaitMs: 30_000 });
  const publisher = new DedupePublisher(nats, undefined);
  const payloads = Array.from({ length: messages }, (_, i) => trajectoryOfSize(`r${round}-t${i}`, payloadBytes));
  const start = performance.now();
  await publishWindowed(messages, (i) => publisher.publish(subject, payloads[i]!, `r${round}-t${i}`));
  const pump = await ConsumerPump.start(nats, stream, "bench", { bufferMessages });
  let received = 0;
  while (received < messages) {
    const batch = await pump.next(256, 5_000);
    if (batch.length === 0) throw new Error(`sluice path stalled after ${received} messages`);
    for (const m of batch) {
      decodeTrajectory(m.data);
      m.ack();
      received++;
    }
  }
  await pump.stop();
  return messages / ((performance.now() - start) / 1000);
}

async function barePath(nats: NatsHandles, stream: string, subject: string, round: number): Promise<number> {
  await nats.jsm.streams.add({ name: stream, subjects: [subject] });
  await nats.jsm.consumers.add(stream, { durable_name: "bare", ack_policy: AckPolicy.Explicit, max_ack_pending: 1024 });
  const payloads = Array.from({ length: messages }, (_, i) => trajectoryOfSize(`b${round}-t${i}`, payloadBytes));
  const start = performance.now();
  await publishWindowed(messages, (i) => nats.js.publish(subject, payloads[i]!));
  const consumer = await nats.js.consumers.get(stream, "bare");
  // The bare loop: JetStream's own continuous pull with its default buffering, ack only.
  const iter = await consumer.consume();
  let received = 0;
  for await (const m of iter) {
    m.ack();
    if (++received >= messages) break;
  }
  await iter.close();
  return messages / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const server = await startNatsServer();
  const nats = await connectNats(server.url, "bench-transport");
  const sluice: number[] = [];
  const bare: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so neither path always runs on a warmer server.
      const first = r % 2 === 0;
      if (first) bare.push(await barePath(nats, `BARE_${r}`, `bench.bare.${r}`, r));
      sluice.push(await sluicePath(nats, `SLUICE_${r}`, `bench.sluice.${r}`, r));
      if (!first) bare.push(await barePath(nats, `BARE_${r}`, `bench.bare.${r}`, r));
      console.log(`round ${r}: sluice ${sluice[r]!.toFixed(0)} traj/s, bare ${bare[r]!.toFixed(0)} traj/s`);
    }
  } finally {
    await nats.close();
    await server.stop();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const result = {
    bench: "transport",
    messages,
    payload_bytes: payloadBytes,
    sluice_traj_per_s: Math.round(median(sluice)),
    bare_traj_per_s: Math.round(median(bare)),
    ratio: Number((median(sluice) / median(bare)).toFixed(3)),
  };
  console.log(`sluice/bare ratio (median of ${rounds}): ${result.ratio} (aim >= 0.8)`);
  console.log(JSON.stringify(result));
}

await main();
