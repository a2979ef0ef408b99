import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DedupePublisher,
  EventPublisher,
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  decodeEvent,
  decodeScoredTrajectory,
  ensureExperimentStreams,
  experimentSubjects,
  openObjectStore,
  resolvePayload,
  rewardSchema,
  waitFor,
  withDeadline,
  type NatsHandles,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { REWARD_DURABLE, startRewardPipeline, type RunningPipeline } from "./pipeline.js";
import { RewardMetrics } from "./reward-metrics.js";
import { makeTrajectory } from "./testing/fixtures.js";

const EXP = "reward-it";
const s = experimentSubjects(EXP);
const { OutcomeLevel: L } = contracts;

void describe("reward pipeline against a real nats-server", { timeout: 30_000 }, () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let pipeline: RunningPipeline;
  const abort = new AbortController();
  const registry = createMetricsRegistry("reward", EXP);
  const logger = createLogger({ experiment: EXP, component: "reward", write: () => undefined });

  before(async () => {
    server = await startNatsServer({ maxPayloadBytes: 64 * 1024 });
    nats = await connectNats(server.url, "reward-it", 5_000);
    await ensureExperimentStreams(nats.jsm, EXP);
    const blobs = await openObjectStore(nats.nc, s.blobBucket);
    pipeline = await startRewardPipeline({
      experiment: EXP,
      config: rewardSchema.parse({ outcome: { source: "level" } }),
      nats,
      blobs,
      events: new EventPublisher(nats, EXP, "reward", logger),
      logger,
      metrics: new RewardMetrics(registry),
      signal: abort.signal,
      fetchExpiresMs: 200,
      ackWaitMs: 2_000,
    });
  });

  after(async () => {
    abort.abort();
    await withDeadline(pipeline.done, 5_000, "pipeline stop").catch(() => undefined);
    await nats?.close();
    await server?.stop();
  });

  /** Message bodies of a stream, with offloaded payloads resolved from the object store. */
  async function streamMessages(stream: string): Promise<Uint8Array[]> {
    const blobs = await openObjectStore(nats.nc, s.blobBucket);
    const info = await nats.jsm.streams.info(stream);
    const out: Uint8Array[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await nats.jsm.streams.getMessage(stream, { seq });
      if (m) out.push(await resolvePayload(m.data, m.header, blobs));
    }
    return out;
  }

  const scoredById = async (): Promise<Map<string, contracts.ScoredTrajectory>> => {
    const out = new Map<string, contracts.ScoredTrajectory>();
    for (const d of await streamMessages(s.scoredStream)) {
      const st = decodeScoredTrajectory(d);
      out.set(st.trajectory?.trajectoryId ?? "", st);
    }
    return out;
  };

  void it("scores valid trajectories, skips garbage and rejects a trajectory without outcome, without redelivery", async () => {
    const pub = new DedupePublisher(nats, undefined);
    const levels = [L.OUTCOME_LEVEL_RESOLVED, L.OUTCOME_LEVEL_TESTS_FAIL, L.OUTCOME_LEVEL_NO_SUBMIT];
    const enc = (t: contracts.Trajectory): Uint8Array => contracts.Trajectory.encode(t).finish();
    await pub.publish(
      s.traj,
      enc(
        makeTrajectory({
          trajectoryId: "t-0",
          outcome: { level: levels[0] ?? 0, score: 0, submitted: true, modified: true, detail: "", turnScores: [] },
        }),
      ),
      "t-0",
    );
    await pub.publish(
      s.traj,
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      "garbage",
    );
    await pub.publish(
      s.traj,
      enc(makeTrajectory({ trajectoryId: "t-1", outcome: contracts.Outcome.fromPartial({ level: levels[1] }) })),
      "t-1",
    );
    await pub.publish(s.traj, enc(makeTrajectory({ trajectoryId: "no-outcome", outcome: undefined })), "no-outcome");
    await pub.publish(
      s.traj,
      enc(makeTrajectory({ trajectoryId: "t-2", outcome: contracts.Outcome.fromPartial({ level: levels[2] }) })),
      "t-2",
    );

    const scored = await waitFor(
      async () => {
        const m = await scoredById();
        return m.size >= 3 ? m : undefined;
      },
      10_000,
      "3 scored trajectories",
    );
    assert.deepEqual([...scored.keys()].sort(), ["t-0", "t-1", "t-2"]);
    assert.equal(scored.get("t-0")?.reward, 1);
    assert.equal(scored.get("t-1")?.reward, 0);
    assert.equal(scored.get("t-2")?.reward, -1);
    assert.equal(scored.get("t-0")?.channels[0]?.producerVersion, "outcome/v1");
    assert.deepEqual(scored.get("t-0")?.perTurnReward, []);

    const events = await waitFor(
      async () => {
        const evs = (await streamMessages(s.eventsStream)).map(decodeEvent);
        const kinds = new Set(evs.map((e) => e.kind));
        return kinds.has("malformed_message") && kinds.has("trajectory_rejected") ? evs : undefined;
      },
      10_000,
      "malformed and rejected events",
    );
    const malformed = events.find((e) => e.kind === "malformed_message");
    assert.equal(malformed?.severity, contracts.Severity.SEVERITY_WARNING);
    assert.equal(malformed?.attributes.subject, s.traj);
    assert.equal(malformed?.attributes.seq, "2");
    assert.match(malformed?.message ?? "", /not a Trajectory protobuf/);
    const rejected = events.find((e) => e.kind === "trajectory_rejected");
    assert.equal(rejected?.attributes.reason, "missing_outcome");
    assert.equal(rejected?.attributes.trajectoryId, "no-outcome");

    const consumer = await waitFor(
      async () => {
        const info = await nats.jsm.consumers.info(s.trajStream, REWARD_DURABLE);
        return info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined;
      },
      5_000,
      "consumer drained",
    ).catch(async (err: unknown) => {
      const info = await nats.jsm.consumers.info(s.trajStream, REWARD_DURABLE);
      assert.fail(`${String(err)}: ${JSON.stringify({ ...info, config: undefined })}`);
    });
    assert.equal(consumer.num_redelivered, 0);
    assert.equal(consumer.delivered.stream_seq, 5);

    const text = await registry.metrics();
    assert.match(text, /sluice_reward_trajectories_scored_total\{[^}]*\} 3/);
    assert.match(text, /sluice_reward_malformed_messages_total\{[^}]*\} 1/);
    assert.match(text, /sluice_reward_trajectories_rejected_total\{[^}]*reason="missing_outcome"[^}]*\} 1/);
  });

  void it("keeps running: a later trajectory, also over max_payload, is scored", async () => {
    const blobs = await openObjectStore(nats.nc, s.blobBucket);
    const pub = new DedupePublisher(nats, blobs);
    const big = makeTrajectory({
      trajectoryId: "big",
      turns: [makeTrajectory().turns[0] as contracts.Turn].map((t) => ({
        ...t,
        observationText: "x".repeat(100 * 1024),
      })),
    });
    const r = await pub.publish(s.traj, contracts.Trajectory.encode(big).finish(), "big");
    assert.equal(r.offloaded, true);
    const scored = await waitFor(async () => (await scoredById()).get("big"), 10_000, "big trajectory scored");
    assert.equal(scored.reward, 1);
    assert.equal(scored.trajectory?.turns[0]?.observationText.length, 100 * 1024);
  });

  void it("stops when its signal aborts", async () => {
    abort.abort();
    await withDeadline(pipeline.done, 5_000, "pipeline stop");
  });
});
