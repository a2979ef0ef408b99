import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  DedupePublisher,
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  ensureExperimentStreams,
  experimentSubjects,
  decodeLabelSnapshotRequest,
  encodeLabelSnapshotMessage,
  openKv,
  unpackFloat32,
  waitFor,
  withDeadline,
  type NatsHandles,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { Learner } from "./learner.js";
import { FakeEngine } from "./testing/fake-engine.js";
import { RecordingEvents, makeScored, testSpec } from "./testing/fixtures.js";

const EXP = "learner-it";
const G = 3;
const B = 2;

void describe("learner loop against a real nats-server", () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let runDir: string;

  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "learner-it");
    await ensureExperimentStreams(nats.jsm, EXP);
    runDir = mkdtempSync(join(tmpdir(), "sluice-learner-"));
  });
  after(async () => {
    await nats?.close();
    await server?.stop();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  void it("trains two steps, acks only after each step, and survives malformed and duplicate messages", async () => {
    const s = experimentSubjects(EXP);
    const pub = new DedupePublisher(nats, undefined);
    // 2 steps × B groups × G members
    for (let g = 0; g < 2 * B; g++) {
      for (let i = 0; i < G; i++) {
        const scored = makeScored({
          id: `t-${g}-${i}`,
          groupId: `g-${g}`,
          groupSize: G,
          index: i,
          reward: i === 0 ? 1 : 0,
        });
        await pub.publish(s.scored, contracts.ScoredTrajectory.encode(scored).finish(), `t-${g}-${i}`);
      }
    }
    const dup = makeScored({ id: "t-0-0", groupId: "g-0", groupSize: G, reward: 1 });
    const deduped = await pub.publish(s.scored, contracts.ScoredTrajectory.encode(dup).finish(), "t-0-0");
    assert.equal(deduped.duplicate, true, "same Nats-Msg-Id is dropped by the stream");
    await pub.publish(s.scored, contracts.ScoredTrajectory.encode(dup).finish(), "t-0-0-retry");
    await pub.publish(s.scored, Uint8Array.from([0xff, 0xff, 0xff, 0x01]), "garbage");

    const engine = new FakeEngine(0);
    const gate = engine.blockForwardBackward();
    const events = new RecordingEvents();
    const learner = new Learner({
      experiment: EXP,
      spec: testSpec({
        steps: 2,
        rollout: { groupSize: G, groupsPerStep: B, maxStaleness: 1 },
        learner: { maxAckPending: 64, microBatchSequences: 4 },
      }),
      runDir,
      nats,
      engine,
      events,
      logger: createLogger({ experiment: EXP, component: "learner", write: () => undefined }),
      registry: createMetricsRegistry("learner", EXP),
    });
    const abort = new AbortController();
    const run = learner.run(abort.signal);
    try {
      await withDeadline(gate.blocked, 10_000, "first forwardBackward");
      const during = await nats.jsm.consumers.info(s.scoredStream, "learner");
      assert.ok(during.num_ack_pending >= B * G, `unacked while the step runs (got ${during.num_ack_pending})`);
      assert.equal(engine.optimStepCalls.length, 0);
      gate.release();

      const status = await withDeadline(run, 20_000, "learner run");
      assert.equal(status.finished, true);
      assert.equal(status.step, 2);
      assert.equal(status.policyVersion, 2);
      assert.equal(status.trajectoriesTrained, 2 * B * G);
      assert.deepEqual(status.trajectoriesDropped, { duplicate: 1, malformed: 1 });
      assert.equal(status.rewardMeanByStep.length, 2);
      assert.ok(Math.abs(status.rewardMeanByStep[0]! - 1 / 3) < 1e-9);

      assert.deepEqual(
        engine.optimStepCalls.map((c) => c.nextPolicyVersion),
        [1, 2],
      );
      // 6 sequences per step in microbatches of 4 → 2 calls per step
      assert.equal(engine.forwardBackwardCalls.length, 4);
      for (const c of engine.forwardBackwardCalls) {
        assert.equal(c.totalSequencesInStep, B * G);
        assert.equal(c.totalLossTokensInStep, B * G * 2);
        assert.equal(c.loss?.kind, contracts.LossKind.LOSS_KIND_PPO_CLIP);
      }

      const kv = await openKv(nats.nc, s.kvBucket);
      const entry = await kv.get("policy");
      const policy = contracts.PolicyRecord.decode(entry!.value);
      assert.equal(policy.version, 2);
      assert.equal(policy.step, 2);
      assert.equal(policy.weightsUri, "engine://policy");

      await waitFor(
        async () =>
          (await nats.jsm.consumers.info(s.scoredStream, "learner")).num_ack_pending === 0 ? true : undefined,
        5_000,
        "all messages acked after the last step",
      );
      const info = await nats.jsm.consumers.info(s.scoredStream, "learner");
      assert.equal(info.num_pending, 0);

      const kinds = events.kinds();
      assert.equal(kinds.filter((k) => k === "malformed_message").length, 1);
      assert.equal(kinds.filter((k) => k === "learner_step").length, 2);
      assert.equal(kinds.at(-1), "run_finished");
      const finalCkpt = join(runDir, "checkpoints", "step-2", "learner.json");
      assert.ok(existsSync(finalCkpt), "final checkpoint is always written");
      const ckpt = JSON.parse(readFileSync(finalCkpt, "utf8")) as { step: number; trajectories_trained: number };
      assert.equal(ckpt.step, 2);
      assert.equal(ckpt.trajectories_trained, 12);
      assert.deepEqual(
        engine.saveWeightsCalls.map((c) => c.path),
        [join(runDir, "checkpoints", "step-2")],
      );
    } finally {
      gate.release();
      abort.abort();
      await run.catch(() => undefined);
    }
  });
  void it("emits learner_stalled while no data arrives and stops cleanly on abort", async () => {
    const exp = "learner-stall";
    await ensureExperimentStreams(nats.jsm, exp);
    const events = new RecordingEvents();
    const learner = new Learner({
      experiment: exp,
      spec: testSpec({ watchdog: { stallTimeoutMs: 1_000 }, rollout: { groupSize: 2, groupsPerStep: 1 } }),
      runDir: mkdtempSync(join(tmpdir(), "sluice-learner-")),
      nats,
      engine: new FakeEngine(3),
      events,
      logger: createLogger({ experiment: exp, component: "learner", write: () => undefined }),
      registry: createMetricsRegistry("learner", exp),
    });
    const abort = new AbortController();
    const run = learner.run(abort.signal);
    await waitFor(
      () => (events.kinds().includes("learner_stalled") ? true : undefined),
      8_000,
      "learner_stalled event",
    );
    assert.equal(events.events.find((e) => e.kind === "learner_stalled")?.severity, "error");
    abort.abort();
    const status = await withDeadline(run, 5_000, "learner stops after abort");
    assert.equal(status.finished, false);
    assert.equal(status.policyVersion, 3, "starts from the engine's version");
  });

  void it("rejects on a fatal engine error and leaves the step's messages unacked for redelivery", async () => {
    const exp = "learner-fatal";
    await ensureExperimentStreams(nats.jsm, exp);
    const s = experimentSubjects(exp);
    const pub = new DedupePublisher(nats, undefined);
    for (let i = 0; i < 2; i++) {
      const scored = makeScored({ id: `f-${i}`, groupId: "f", groupSize: 2, reward: i });
      await pub.publish(s.scored, contracts.ScoredTrajectory.encode(scored).finish(), `f-${i}`);
    }
    const engine = new FakeEngine(0);
    engine.failOptimStep = new Error("CUDA out of memory");
    const learner = new Learner({
      experiment: exp,
      spec: testSpec({ rollout: { groupSize: 2, groupsPerStep: 1 } }),
      runDir: mkdtempSync(join(tmpdir(), "sluice-learner-")),
      nats,
      engine,
      events: new RecordingEvents(),
      logger: createLogger({ experiment: exp, component: "learner", write: () => undefined }),
      registry: createMetricsRegistry("learner", exp),
    });
    await assert.rejects(
      withDeadline(learner.run(new AbortController().signal), 10_000, "learner run"),
      /CUDA out of memory/,
    );
    const info = await nats.jsm.consumers.info(s.scoredStream, "learner");
    assert.equal(info.num_ack_pending, 2);
    assert.equal(learner.getStatus().step, 0);
  });

  void it("stops without an update when the engine restarted under it (it holds its initial weights again)", async () => {
    const exp = "learner-engine-restarted";
    await ensureExperimentStreams(nats.jsm, exp);
    const s = experimentSubjects(exp);
    const pub = new DedupePublisher(nats, undefined);
    const publishGroup = async (g: string, version: number): Promise<void> => {
      for (let i = 0; i < 2; i++) {
        const scored = makeScored({ id: `${g}-${i}`, groupId: g, groupSize: 2, index: i, reward: i, version });
        await pub.publish(s.scored, contracts.ScoredTrajectory.encode(scored).finish(), `${g}-${i}`);
      }
    };
    const engine = new FakeEngine(0);
    const dir = mkdtempSync(join(tmpdir(), "sluice-learner-"));
    const learner = new Learner({
      experiment: exp,
      spec: testSpec({ steps: 2, rollout: { groupSize: 2, groupsPerStep: 1 } }),
      runDir: dir,
      nats,
      engine,
      events: new RecordingEvents(),
      logger: createLogger({ experiment: exp, component: "learner", write: () => undefined }),
      registry: createMetricsRegistry("learner", exp),
    });
    const run = learner.run(new AbortController().signal);
    await publishGroup("r0", 0);
    await waitFor(async () => (learner.getStatus().step === 1 ? true : undefined), 10_000, "step 1");
    // The engine dies and a fresh one answers on the same address, at its initial version.
    engine.version = 0;
    await publishGroup("r1", 1);
    await assert.rejects(withDeadline(run, 10_000, "learner run"), /engine holds policy version 0.*trains version 1/);
    assert.equal(engine.optimStepCalls.length, 1, "no optimizer update on the fresh engine's weights");
    assert.equal(existsSync(join(dir, "checkpoints", "step-2")), false, "no step 2 checkpoint");
    const info = await nats.jsm.consumers.info(s.scoredStream, "learner");
    assert.equal(info.num_ack_pending, 2, "the step's messages stay unacked for the resumed learner");
    rmSync(dir, { recursive: true, force: true });
  });

  void it("with PPO mini-batches: one update per part, the version moves once per step", async () => {
    const exp = "learner-minibatch";
    await ensureExperimentStreams(nats.jsm, exp);
    const s = experimentSubjects(exp);
    const pub = new DedupePublisher(nats, undefined);
    for (let i = 0; i < 4; i++) {
      const scored = makeScored({ id: `m-${i}`, groupId: "m", groupSize: 4, index: i, reward: i });
      await pub.publish(s.scored, contracts.ScoredTrajectory.encode(scored).finish(), `m-${i}`);
    }
    const engine = new FakeEngine(0);
    const learner = new Learner({
      experiment: exp,
      spec: testSpec({ steps: 1, rollout: { groupSize: 4, groupsPerStep: 1 }, algorithm: { miniBatches: 2 } }),
      runDir: mkdtempSync(join(tmpdir(), "sluice-learner-")),
      nats,
      engine,
      events: new RecordingEvents(),
      logger: createLogger({ experiment: exp, component: "learner", write: () => undefined }),
      registry: createMetricsRegistry("learner", exp),
    });
    const status = await withDeadline(learner.run(new AbortController().signal), 10_000, "learner run");
    assert.equal(status.policyVersion, 1);
    assert.deepEqual(
      engine.optimStepCalls.map((c) => [c.keepPolicyVersion, c.nextPolicyVersion]),
      [
        [true, 1],
        [false, 1],
      ],
    );
    // 4 sequences (2 loss tokens each) in 2 parts: each part is its own loss average.
    assert.deepEqual(
      engine.forwardBackwardCalls.map((c) => [c.sequences.length, c.totalSequencesInStep, c.totalLossTokensInStep]),
      [
        [2, 2, 4],
        [2, 2, 4],
      ],
    );
  });

  void it("decoupled PPO recomputes proximal logprobs before the step and sends them with the batch", async () => {
    const exp = "learner-decoupled";
    await ensureExperimentStreams(nats.jsm, exp);
    const s = experimentSubjects(exp);
    const pub = new DedupePublisher(nats, undefined);
    for (let i = 0; i < 2; i++) {
      const scored = makeScored({ id: `d-${i}`, groupId: "d", groupSize: 2, index: i, reward: i });
      await pub.publish(s.scored, contracts.ScoredTrajectory.encode(scored).finish(), `d-${i}`);
    }
    const engine = new FakeEngine(0);
    const learner = new Learner({
      experiment: exp,
      spec: testSpec({
        steps: 1,
        rollout: { groupSize: 2, groupsPerStep: 1 },
        algorithm: { loss: "decoupled_ppo", behaviourWeightCap: 5 },
      }),
      runDir: mkdtempSync(join(tmpdir(), "sluice-learner-")),
      nats,
      engine,
      events: new RecordingEvents(),
      logger: createLogger({ experiment: exp, component: "learner", write: () => undefined }),
      registry: createMetricsRegistry("learner", exp),
    });
    await withDeadline(learner.run(new AbortController().signal), 10_000, "learner run");
    assert.equal(engine.computeLogprobsCalls.length, 1);
    const fb = engine.forwardBackwardCalls[0]!;
    assert.equal(fb.loss?.kind, contracts.LossKind.LOSS_KIND_DECOUPLED_PPO);
    assert.equal(fb.loss?.behaviourWeightCap, 5);
    for (const q of fb.sequences) {
      assert.deepEqual(unpackFloat32(q.proxLogprobs), new Array<number>(q.tokenIds.byteLength / 4 - 1).fill(-0.5));
      assert.ok(q.oldLogprobs.byteLength > 0, "behaviour logprobs still travel");
    }
  });

  void it("a KL term asks the frozen reference model for ref_logprobs and sends klCoef with the loss", async () => {
    const exp = "learner-kl";
    await ensureExperimentStreams(nats.jsm, exp);
    const s = experimentSubjects(exp);
    const pub = new DedupePublisher(nats, undefined);
    for (let i = 0; i < 2; i++) {
      const scored = makeScored({ id: `k-${i}`, groupId: "k", groupSize: 2, index: i, reward: i });
      await pub.publish(s.scored, contracts.ScoredTrajectory.encode(scored).finish(), `k-${i}`);
    }
    const engine = new FakeEngine(0);
    const registry = createMetricsRegistry("learner", exp);
    const learner = new Learner({
      experiment: exp,
      spec: testSpec({ steps: 1, rollout: { groupSize: 2, groupsPerStep: 1 }, algorithm: { klCoef: 0.05 } }),
      runDir: mkdtempSync(join(tmpdir(), "sluice-learner-")),
      nats,
      engine,
      events: new RecordingEvents(),
      logger: createLogger({ experiment: exp, component: "learner", write: () => undefined }),
      registry,
    });
    await withDeadline(learner.run(new AbortController().signal), 10_000, "learner run");
    assert.deepEqual(
      engine.computeLogprobsCalls.map((c) => c.model),
      ["policy-ref"],
      "only the reference model is asked (ppo_clip needs no proximal logprobs)",
    );
    const fb = engine.forwardBackwardCalls[0]!;
    assert.equal(fb.model, "policy");
    assert.equal(fb.loss?.klCoef, 0.05);
    for (const q of fb.sequences) {
      assert.deepEqual(unpackFloat32(q.refLogprobs), new Array<number>(q.tokenIds.byteLength / 4 - 1).fill(-0.5));
      assert.equal(q.proxLogprobs.byteLength, 0);
    }
    assert.match(await registry.metrics(), /sluice_learner_kl_to_reference\{[^}]*\} \d/);
  });

  void it("resumes exactly once: a learner that dies after an uncheckpointed step loses nothing and trains nothing twice", async () => {
    const exp = "learner-resume";
    await ensureExperimentStreams(nats.jsm, exp);
    const s = experimentSubjects(exp);
    const pub = new DedupePublisher(nats, undefined);
    const ids: string[] = [];
    for (let g = 0; g < 4; g++) {
      for (let i = 0; i < 2; i++) {
        const id = `r-${g}-${i}`;
        ids.push(id);
        const scored = makeScored({ id, groupId: `r-${g}`, groupSize: 2, index: i, reward: i });
        await pub.publish(s.scored, contracts.ScoredTrajectory.encode(scored).finish(), id);
      }
    }
    const dir = mkdtempSync(join(tmpdir(), "sluice-learner-"));
    const spec = testSpec({
      steps: 4,
      rollout: { groupSize: 2, groupsPerStep: 1, maxStaleness: 8 },
      learner: { checkpointEvery: 2, maxAckPending: 16 },
      reward: { oni: { enabled: true, cInt: 0.4 } },
    });
    // Stands in for the reward service's label store: answers snapshot / restore requests.
    const labelOps: string[] = [];
    const subs = (["snapshot", "restore"] as const).map((op) =>
      nats.nc.subscribe(op === "snapshot" ? s.oniSnapshot : s.oniRestore, {
        callback: (_err, msg) => {
          const { path } = decodeLabelSnapshotRequest(msg.data);
          labelOps.push(`${op} ${path.slice(dir.length)}`);
          msg.respond(encodeLabelSnapshotMessage({ ok: true, version: 7, labels: 3 }));
        },
      }),
    );
    const registries = [createMetricsRegistry("learner", exp), createMetricsRegistry("learner", exp)];
    let life = 0;
    const make = (engine: FakeEngine, events: RecordingEvents) =>
      new Learner({
        experiment: exp,
        spec,
        runDir: dir,
        nats,
        engine,
        events,
        logger: createLogger({ experiment: exp, component: "learner", write: () => undefined }),
        registry: registries[life++]!,
        ackWaitMs: 2_000,
        fetchMax: 2,
      });

    // First life: dies right after step 3 (checkpoint at step 2; step 3 not covered).
    const engine1 = new FakeEngine(0);
    const abort = new AbortController();
    const events1 = new RecordingEvents();
    const emit = events1.emit.bind(events1);
    events1.emit = async (e) => {
      await emit(e);
      if (e.kind === "learner_step" && e.step === 3) abort.abort();
    };
    const first = await withDeadline(make(engine1, events1).run(abort.signal), 20_000, "first learner");
    assert.equal(first.step, 3);
    const afterCrash = await nats.jsm.consumers.info(s.scoredStream, "learner");
    assert.ok(afterCrash.num_ack_pending >= 2, "step 3's messages were never acked");

    // Second life: resumes from step 2, gets step 3's messages again from JetStream.
    const engine2 = new FakeEngine(0);
    const events2 = new RecordingEvents();
    const second = await withDeadline(
      make(engine2, events2).run(new AbortController().signal),
      30_000,
      "resumed learner",
    );
    assert.equal(second.step, 4);
    assert.equal(second.policyVersion, 4);
    assert.deepEqual(engine2.loadWeightsCalls, [join(dir, "checkpoints", "step-2")]);
    assert.deepEqual(
      engine2.optimStepCalls.map((c) => c.nextPolicyVersion),
      [3, 4],
      "versions only go up",
    );
    assert.ok(events2.kinds().includes("learner_resumed"));
    // Every trajectory trained exactly once, by id: the final checkpoint lists each once.
    assert.equal(second.trajectoriesTrained, 8);
    const final = JSON.parse(readFileSync(join(dir, "checkpoints", "step-4", "learner.json"), "utf8")) as {
      consumed_ids: string[];
    };
    assert.deepEqual([...final.consumed_ids].sort(), [...ids].sort());
    const info = await nats.jsm.consumers.info(s.scoredStream, "learner");
    assert.equal(info.num_ack_pending, 0);
    // Second life: one checkpoint (step 4) and 4 trajectories × 2 action tokens, all version 0.
    const metrics = await registries[1]!.metrics();
    assert.match(metrics, /sluice_learner_checkpoint_duration_seconds_count\{[^}]*\} 1\n/);
    assert.match(metrics, /sluice_learner_token_version_lag_count\{[^}]*\} 8\n/);
    assert.match(metrics, /sluice_learner_last_checkpoint_timestamp_seconds\{[^}]*\} \d/);
    // ONI's label store is snapshotted with every checkpoint and restored on resume.
    for (const sub of subs) sub.unsubscribe();
    assert.deepEqual(labelOps, [
      "snapshot /checkpoints/step-2/oni-labels.json",
      "restore /checkpoints/step-2/oni-labels.json",
      "snapshot /checkpoints/step-4/oni-labels.json",
    ]);
    assert.equal(
      (
        JSON.parse(readFileSync(join(dir, "checkpoints", "step-4", "learner.json"), "utf8")) as {
          label_snapshot?: string;
        }
      ).label_snapshot,
      "oni-labels.json",
    );
  });
});
