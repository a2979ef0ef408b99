import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  BLOB_HEADER,
  DeadlineError,
  SluiceError,
  ValidationError,
  contracts,
  decodeScoredTrajectory,
  ensureDurableConsumer,
  ensureExperimentStreams,
  errorMessage,
  experimentSubjects,
  ConsumerPump,
  KV_KEYS,
  openKv,
  openObjectStore,
  referenceModelName,
  requestLabelSnapshot,
  unpackInt32,
  resolvePayload,
  sleep,
  usesReferenceModel,
  type EngineApi,
  type EventInput,
  type ExperimentSpec,
  type ExperimentSubjects,
  type JsMsg,
  type KV,
  type Logger,
  type NatsHandles,
  type ObjectStore,
  type ServiceContext,
} from "@sluice/common";
import { GroupBuffer, type DropReason, type IncompleteGroupPolicy, type ReadyGroup } from "./group-buffer.js";
import { createLearnerMetrics, type LearnerMetrics } from "./learner-metrics.js";
import { cloneStatus, emptyStatus, type LearnerStatus } from "./learner-status.js";
import { lossConfigFromSpec, needsProximalLogprobs } from "./loss-config.js";
import { withProximalLogprobs, withReferenceLogprobs } from "./proximal.js";
import { createGuidedLearnerMetrics, planGuidedStep, type GuidedLearnerMetrics } from "./guided-step.js";
import { GuidedDataExporter } from "./guided-export.js";
import { WeightPublication, createWeightPublisher, type WeightPublisher } from "./publish/index.js";
import { CHECKPOINT_FORMAT, checkpointDir, latestCheckpoint, writeCheckpointRecord } from "./checkpoint-store.js";
import { TrainedLedger } from "./trained-ledger.js";
import { buildStepBatch, lossTokensOf, microbatches, miniBatchSeed, miniBatches } from "./step-batch.js";

/** Where events go; EventPublisher from common satisfies it. */
export interface EventSink {
  emit(input: EventInput): Promise<void>;
}

export interface LearnerOptions {
  experiment: string;
  spec: ExperimentSpec;
  runDir: string;
  nats: NatsHandles;
  engine: EngineApi;
  events: EventSink;
  logger: Logger;
  registry: ServiceContext["registry"];
  /** Default `drop` (spec has no field for it yet). */
  incompleteGroupPolicy?: IncompleteGroupPolicy;
  /** Durable consumer name; default `learner`. */
  consumerName?: string;
  /** How long one fetch waits for messages; default 1000 ms (the client minimum). */
  fetchExpiresMs?: number;
  /** Messages asked for per fetch; default min(256, maxAckPending). */
  fetchMax?: number;
  /** JetStream ack wait of the learner's consumer; default max(60 s, learner.stepTimeoutMs). */
  ackWaitMs?: number;
  /** Makes each version servable; default from spec.inference (createWeightPublisher). */
  weightPublisher?: WeightPublisher;
  now?: () => number;
}

/** The learner failed in a way a restart (with redelivery of unacked data) must handle. */
export class LearnerError extends SluiceError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false });
    this.name = "LearnerError";
  }
}

const STARTUP_RETRY_MS = 500;
const LABEL_SNAPSHOT_FILE = "oni-labels.json";
const LABEL_SNAPSHOT_TIMEOUT_MS = 30_000;
const GUIDED_DATA_FILE = "guided-data.jsonl";

/**
 * The learner loop: pull scored trajectories from JetStream, group them, and once B
 * complete groups are ready run one step on the engine (forward/backward in
 * microbatches, optimiser step), publish the new policy to KV and only then ack every
 * message the step consumed (trained or dropped). Unacked data is redelivered to a
 * restarted learner, where duplicates are recognised by trajectory id.
 */
export class Learner {
  private readonly subjects: ExperimentSubjects;
  private readonly metrics: LearnerMetrics;
  private readonly guidedMetrics: GuidedLearnerMetrics | undefined;
  /** Agent-RLVR: (trajectory, pass/fail) lines for a test-time reward model. */
  private readonly guidedExport: GuidedDataExporter | undefined;
  private readonly buffer: GroupBuffer<JsMsg>;
  private readonly status: LearnerStatus = emptyStatus();
  private readonly consumer: string;
  private readonly now: () => number;
  private readonly ackWaitMs: number;
  private kv: KV | undefined;
  private blobs: ObjectStore | undefined;
  private inStep: JsMsg[] = [];
  /** Trained or dropped, waiting for the checkpoint that covers them before the ack. */
  private awaitingCheckpoint: JsMsg[] = [];
  /** Trajectory id of each accepted message (for the consumed-id accounting). */
  private readonly idOf = new WeakMap<JsMsg, string>();
  /** Trajectory id → stream sequence of messages accepted and held, not yet consumed. */
  private readonly heldSeq = new Map<string, number>();
  /** Trajectory id → stream sequence of everything consumed and acked (restored on resume). */
  private consumed = new Map<string, number>();
  private lastCheckpointStep = -1;
  /** Groups dropped whole; admission gives their slots back (KV admission_refunds). */
  private refundedGroups = 0;
  private refundsDirty = false;
  /** Publishes each version to the inference backend (spec.inference) before the KV record. */
  private readonly weights: WeightPublication;
  private startedAtMs = 0;
  private idleMs = 0;
  /** Ids trained and dropped since the last checkpoint, written with it (id accounting). */
  private readonly ledger = new TrainedLedger();

  constructor(private readonly o: LearnerOptions) {
    this.subjects = experimentSubjects(o.experiment);
    this.metrics = createLearnerMetrics(o.registry);
    this.guidedMetrics = o.spec.guidance.enabled ? createGuidedLearnerMetrics(o.registry) : undefined;
    this.guidedExport =
      o.spec.guidance.enabled || o.spec.learner.exportTrainedData
        ? new GuidedDataExporter(join(o.runDir, GUIDED_DATA_FILE), o.spec.guidance.successThreshold)
        : undefined;
    this.consumer = o.consumerName ?? "learner";
    this.now = o.now ?? Date.now;
    this.weights = new WeightPublication({
      publisher:
        o.weightPublisher ??
        createWeightPublisher({
          spec: o.spec,
          runDir: o.runDir,
          writer: o.engine,
          onWarning: (message, attributes) =>
            void o.events.emit({ kind: "weight_publish_warning", severity: "warning", message, attributes }),
        }),
      registry: o.registry,
      events: o.events,
      logger: o.logger,
      now: this.now,
    });
    this.ackWaitMs = o.ackWaitMs ?? (o.spec.learner.ackWaitMs || Math.max(60_000, o.spec.learner.stepTimeoutMs));
    this.buffer = new GroupBuffer<JsMsg>({
      groupTimeoutMs: o.spec.learner.groupTimeoutMs,
      policy: o.incompleteGroupPolicy ?? "drop",
      now: this.now,
      onDrop: (reason, id) => {
        this.countDrop(reason);
        this.ledger.noteDropped(id, reason);
      },
      onStaleness: (lag) => this.metrics.staleness.observe(lag),
      dropZeroVariance: o.spec.algorithm.dynamicSampling,
      onGroupDropped: () => {
        this.refundedGroups++;
        this.refundsDirty = true;
      },
    });
  }

  /** A snapshot of the counters (GetStatus). */
  getStatus(): LearnerStatus {
    return cloneStatus(this.status);
  }

  /**
   * Runs until spec.steps steps are done (resolves with the final status) or `signal`
   * aborts (resolves after the current wait; an in-flight step finishes first).
   * Rejects on a fatal error; unacked messages are then redelivered to the next learner.
   */
  async run(signal: AbortSignal): Promise<LearnerStatus> {
    const { spec } = this.o;
    const groupsPerStep = spec.rollout.groupsPerStep;
    const heldSteps = Math.max(1, spec.learner.checkpointEvery);
    // Agent-RLVR: a group grows by up to G guided re-attempts per guidance round.
    const groupMax = spec.rollout.groupSize * (spec.guidance.enabled ? 1 + spec.guidance.maxRounds : 1);
    if (spec.learner.maxAckPending < heldSteps * groupsPerStep * groupMax) {
      throw new ValidationError(
        `learner.maxAckPending (${spec.learner.maxAckPending}) must be at least max(1, checkpointEvery) × groupsPerStep × groupSize${spec.guidance.enabled ? " × (1 + guidance.maxRounds)" : ""} (${heldSteps * groupsPerStep * groupMax}): the learner holds messages unacked until the checkpoint that covers them`,
      );
    }
    this.startedAtMs = this.now();
    await ensureExperimentStreams(this.o.nats.jsm, this.o.experiment);
    await ensureDurableConsumer(this.o.nats, {
      stream: this.subjects.scoredStream,
      durable: this.consumer,
      filterSubject: this.subjects.scored,
      maxAckPending: spec.learner.maxAckPending,
      ackWaitMs: this.ackWaitMs,
    });
    this.kv = await openKv(this.o.nats.nc, this.subjects.kvBucket);
    const pump = await ConsumerPump.start(this.o.nats, this.subjects.scoredStream, this.consumer);
    const info = await this.startupCall(() => this.o.engine.modelInfo(spec.model.name), signal);
    if (!info) return this.getStatus();
    this.setVersion(info.policyVersion);
    if (!(await this.resume(signal)) && signal.aborted) return this.getStatus();
    await this.publishPolicy();
    this.o.logger.info("learner started", { policyVersion: this.status.policyVersion, steps: spec.steps });

    const heartbeat = setInterval(() => this.extendAckDeadlines(), Math.max(1_000, Math.floor(this.ackWaitMs / 3)));
    heartbeat.unref();
    let lastDataMs = this.now();
    let lastStallEventMs = 0;
    try {
      while (!signal.aborted && this.status.step < spec.steps) {
        const groups = this.buffer.takeGroups(groupsPerStep, this.status.policyVersion, spec.rollout.maxStaleness);
        if (this.refundsDirty) await this.publishRefunds();
        if (groups) {
          await this.step(groups);
          lastDataMs = this.now();
          continue;
        }
        const waitStart = this.now();
        const msgs = await pump.next(
          this.o.fetchMax ?? Math.min(256, spec.learner.maxAckPending),
          this.o.fetchExpiresMs ?? 1_000,
        );
        for (const m of msgs) await this.accept(m);
        this.buffer.expire();
        this.metrics.bufferDepth.set(this.buffer.depth());
        const now = this.now();
        this.idleMs += now - waitStart;
        this.metrics.idleRatio.set(this.idleMs / Math.max(1, now - this.startedAtMs));
        if (msgs.length > 0) lastDataMs = now;
        const stallMs = spec.watchdog.stallTimeoutMs;
        if (now - lastDataMs >= stallMs && now - lastStallEventMs >= stallMs) {
          lastStallEventMs = now;
          await this.o.events.emit({
            kind: "learner_stalled",
            severity: "error",
            message: `no scored trajectories for ${now - lastDataMs} ms (buffer holds ${this.buffer.depth()}, ${this.buffer.readyCount()} groups ready of ${groupsPerStep})`,
            step: this.status.step,
            values: { waited_ms: now - lastDataMs, buffer_depth: this.buffer.depth() },
          });
        }
      }
    } finally {
      clearInterval(heartbeat);
      await pump.stop().catch(() => undefined);
    }
    if (this.status.step >= spec.steps && !this.status.finished) await this.finish();
    return this.getStatus();
  }

  private async accept(m: JsMsg): Promise<void> {
    let scored: contracts.ScoredTrajectory;
    try {
      const data = await this.payload(m);
      scored = decodeScoredTrajectory(data);
    } catch (err) {
      this.countDrop("malformed");
      // No reason text: "+TERM <reason>" needs nats-server ≥ 2.10.4 and older servers ignore it.
      m.term();
      await this.o.events.emit({
        kind: "malformed_message",
        severity: "warning",
        message: errorMessage(err),
        step: this.status.step,
        attributes: { subject: m.subject, stream_seq: String(m.seq) },
      });
      return;
    }
    const id = scored.trajectory?.trajectoryId ?? "";
    const consumedSeq = this.consumed.get(id);
    if (consumedSeq === m.seq) {
      // The same message again: its ack was lost (a crash between the checkpoint that covers
      // it and the ack). It was counted and its effect is in the weights.
      m.ack();
      this.metrics.redelivered.inc();
      return;
    }
    if (consumedSeq !== undefined) {
      // Another publication of a trajectory already consumed (a retried publish).
      this.countDrop("duplicate");
      m.ack();
      return;
    }
    if (this.heldSeq.get(id) === m.seq) {
      // A redelivery of a message this learner still holds (its ack wait ran out while it sat
      // in the consumer's prefetch, which the heartbeat does not reach). Acking this copy would
      // ack the held one before the checkpoint that covers it: a crash then loses it.
      this.metrics.redelivered.inc();
      return;
    }
    this.heldSeq.set(id, m.seq);
    this.idOf.set(m, id);
    this.buffer.add(scored, m);
  }

  private async payload(m: JsMsg): Promise<Uint8Array> {
    if (m.headers?.get(BLOB_HEADER) && !this.blobs) {
      this.blobs = await openObjectStore(this.o.nats.nc, this.subjects.blobBucket);
    }
    return resolvePayload(m.data, m.headers, this.blobs);
  }

  private async step(groups: ReadyGroup<JsMsg>[]): Promise<void> {
    const { spec, engine } = this.o;
    const started = this.now();
    this.inStep = [...groups.flatMap((g) => g.valid.map((s) => s.msg)), ...this.buffer.takeAcks()];
    this.observeTokenLag(groups);
    const batch = buildStepBatch(groups, {
      creditAssignment: spec.algorithm.creditAssignment,
      estimator: spec.algorithm.advantage,
      stdNormalization: spec.algorithm.stdNormalization,
      ...(spec.guidance.enabled ? { guidedContext: spec.guidance.context } : {}),
    });
    // Agent-RLVR (spec.guidance): stripped contexts get recomputed logprobs; DPO replaces the batch.
    const plan = await planGuidedStep(
      engine,
      spec,
      groups,
      batch,
      lossConfigFromSpec(spec.algorithm),
      this.guidedMetrics,
    );
    this.guidedExport?.append(groups, this.status.step + 1);
    const loss = plan.loss;
    const nextVersion = this.status.policyVersion + 1;
    let lossSum = 0;
    let klTokens = 0;
    let klWeighted = 0;
    // Decoupled PPO / TIS: the proximal policy is the weights before the step's first update.
    const withProximal =
      needsProximalLogprobs(spec.algorithm) && !plan.pairwise
        ? await withProximalLogprobs(engine, spec.model.name, plan.sequences, spec.learner.microBatchSequences)
        : plan.sequences;
    // k3 KL to the frozen reference policy: its logprobs of every target, before the step.
    const sequences =
      usesReferenceModel(spec) && !plan.pairwise
        ? await withReferenceLogprobs(engine, referenceModelName(spec), withProximal, spec.learner.microBatchSequences)
        : withProximal;
    // PPO mini-batches: one optimizer update each; only the last moves the policy version.
    // DPO pairs stay adjacent: one part in order, microbatches of whole pairs.
    const parts = plan.pairwise
      ? [sequences]
      : miniBatches(sequences, spec.algorithm.miniBatches, miniBatchSeed(spec.seed, this.status.step));
    const microBatchSequences = plan.pairwise
      ? Math.max(2, spec.learner.microBatchSequences - (spec.learner.microBatchSequences % 2))
      : spec.learner.microBatchSequences;
    for (const [k, part] of parts.entries()) {
      const last = k === parts.length - 1;
      const partLossTokens = part.reduce((n, q) => n + lossTokensOf(q), 0);
      for (const mb of microbatches(part, microBatchSequences)) {
        const stop = this.metrics.engineLatency.startTimer({ call: "forward_backward" });
        const res = await engine.forwardBackward({
          model: spec.model.name,
          sequences: mb,
          loss,
          totalSequencesInStep: part.length,
          totalLossTokensInStep: partLossTokens,
        });
        stop();
        // The engine must still hold the weights this learner believes it trains: an engine that
        // died and came back holds its initial weights, and an update on them would be
        // checkpointed as this run's next step. Stop instead (before any optimizer update); the
        // restarted learner resumes and loads the checkpoint into the new engine.
        if (res.policyVersion !== this.status.policyVersion) {
          throw new LearnerError(
            `engine holds policy version ${res.policyVersion}, this learner trains version ${this.status.policyVersion}: the engine restarted; stopping so the learner resumes from its checkpoint`,
          );
        }
        // Each microbatch loss is already scaled by 1/total of its part; parts are averaged.
        lossSum += res.loss / parts.length;
        if (last) {
          klWeighted += res.klMean * res.lossTokens;
          klTokens += res.lossTokens;
        }
      }
      const stopOptim = this.metrics.engineLatency.startTimer({ call: "optim_step" });
      const optim = await engine.optimStep({
        model: spec.model.name,
        learningRate: spec.optimizer.learningRate,
        weightDecay: spec.optimizer.weightDecay,
        maxGradNorm: spec.optimizer.maxGradNorm,
        beta1: spec.optimizer.beta1,
        beta2: spec.optimizer.beta2,
        nextPolicyVersion: nextVersion,
        keepPolicyVersion: !last,
      });
      stopOptim();
      const expected = last ? nextVersion : this.status.policyVersion;
      if (optim.policyVersion !== 0 && optim.policyVersion !== expected) {
        throw new LearnerError(
          `engine reports policy version ${optim.policyVersion} after optim step ${k + 1}/${parts.length}, expected ${expected}`,
        );
      }
    }

    const s = this.status;
    s.step += 1;
    this.setVersion(nextVersion);
    s.trajectoriesTrained += batch.trained;
    this.ledger.noteTrained(batch.advantages.keys(), s.step);
    s.rewardMeanByStep.push(batch.rewardMean);
    s.completionRateByStep.push(batch.completionRate);
    this.metrics.step.set(s.step);
    this.metrics.trained.inc(batch.trained);
    this.metrics.loss.set(lossSum);
    if (usesReferenceModel(spec)) this.metrics.klToReference.set(klTokens > 0 ? klWeighted / klTokens : 0);
    this.metrics.rewardMean.set(batch.rewardMean);

    this.awaitingCheckpoint.push(...this.inStep, ...this.buffer.takeAcks());
    this.inStep = [];
    const every = spec.learner.checkpointEvery;
    if ((every > 0 && s.step % every === 0) || s.step >= spec.steps) await this.checkpoint();
    await this.publishPolicy();
    // Without periodic checkpoints there is nothing to resume from: ack after the step.
    if (every === 0) await this.ackAwaiting();
    this.metrics.bufferDepth.set(this.buffer.depth());
    const stepSeconds = (this.now() - started) / 1000;
    this.metrics.stepDuration.observe(stepSeconds);
    this.metrics.tokensPerSecond.set(stepSeconds > 0 ? batch.totalLossTokens / stepSeconds : 0);
    await this.o.events.emit({
      kind: "learner_step",
      step: s.step,
      values: {
        step: s.step,
        reward_mean: batch.rewardMean,
        completion_rate: batch.completionRate,
        policy_version: s.policyVersion,
        trained: batch.trained,
        loss: lossSum,
      },
    });
  }

  /**
   * Weights + optimizer (engine) and the accounting (consumed ids, counters), then the acks
   * of every message the checkpoint covers: ack only after the checkpoint that covers it.
   */
  private async checkpoint(): Promise<void> {
    const { spec, engine, runDir } = this.o;
    const s = this.status;
    if (this.lastCheckpointStep === s.step) return;
    const dir = checkpointDir(runDir, s.step);
    mkdirSync(dir, { recursive: true });
    const stopCheckpoint = this.metrics.checkpointDuration.startTimer();
    const stop = this.metrics.engineLatency.startTimer({ call: "save_weights" });
    await engine.saveWeights(spec.model.name, dir, true);
    stop();
    this.markConsumed(this.awaitingCheckpoint);
    const labelSnapshot = await this.snapshotLabels(dir);
    // Before the record: the record's rename commits both (see trained-ledger.ts).
    this.ledger.write(dir, s.step, s.policyVersion, this.idsOf(this.awaitingCheckpoint));
    writeCheckpointRecord(dir, {
      format: CHECKPOINT_FORMAT,
      step: s.step,
      policy_version: s.policyVersion,
      trajectories_trained: s.trajectoriesTrained,
      trajectories_dropped: s.trajectoriesDropped,
      reward_mean_by_step: s.rewardMeanByStep,
      completion_rate_by_step: s.completionRateByStep,
      consumed_ids: [...this.consumed.keys()],
      consumed_seqs: [...this.consumed.values()],
      refunded_groups: this.refundedGroups,
      ...(labelSnapshot ? { label_snapshot: labelSnapshot } : {}),
    });
    this.lastCheckpointStep = s.step;
    stopCheckpoint();
    this.metrics.lastCheckpointTime.set(Date.now() / 1000);
    this.o.logger.info("checkpoint written", { step: s.step, dir, consumed: this.consumed.size });
    await this.ackAwaiting();
  }

  /**
   * ONI: the reward service writes its label store next to the weights, so a resumed run
   * sees the labels its intrinsic rewards were computed from. A failure is reported and
   * the checkpoint goes on without it (training must not stop for the annotator).
   */
  private async snapshotLabels(dir: string): Promise<string | undefined> {
    if (!this.o.spec.reward.oni.enabled) return undefined;
    try {
      const r = await requestLabelSnapshot(
        this.o.nats.nc,
        this.o.experiment,
        "snapshot",
        join(dir, LABEL_SNAPSHOT_FILE),
        LABEL_SNAPSHOT_TIMEOUT_MS,
      );
      this.o.logger.info("ONI labels snapshotted", { dir, labels: r.labels, version: r.version });
      return LABEL_SNAPSHOT_FILE;
    } catch (err) {
      await this.o.events.emit({
        kind: "oni_label_snapshot_failed",
        severity: "error",
        message: errorMessage(err),
        step: this.status.step,
      });
      return undefined;
    }
  }

  private async restoreLabels(path: string, signal: AbortSignal): Promise<void> {
    // The reward service may still be starting: retry within the startup deadline.
    const deadline = this.now() + this.o.spec.learner.stepTimeoutMs;
    for (;;) {
      try {
        const r = await requestLabelSnapshot(
          this.o.nats.nc,
          this.o.experiment,
          "restore",
          path,
          LABEL_SNAPSHOT_TIMEOUT_MS,
        );
        this.o.logger.info("ONI labels restored", { path, labels: r.labels });
        return;
      } catch (err) {
        if (signal.aborted || this.now() >= deadline) {
          await this.o.events.emit({
            kind: "oni_label_restore_failed",
            severity: "error",
            message: errorMessage(err),
            step: this.status.step,
          });
          return;
        }
        await sleep(STARTUP_RETRY_MS, signal);
      }
    }
  }

  /** Per-token version lag of the step's valid samples (a resumed rollout mixes versions). */
  private observeTokenLag(groups: readonly ReadyGroup<JsMsg>[]): void {
    const v = this.status.policyVersion;
    for (const g of groups) {
      for (const s of g.valid) {
        for (const turn of s.scored.trajectory?.turns ?? []) {
          for (const tokenVersion of unpackInt32(turn.actionPolicyVersions))
            this.metrics.tokenLag.observe(v - tokenVersion);
        }
      }
    }
  }

  /** Tells admission how many groups were dropped whole (the learner is the only writer). */
  private async publishRefunds(): Promise<void> {
    this.refundsDirty = false;
    try {
      await this.kv!.put(KV_KEYS.admissionRefunds, JSON.stringify({ groups: this.refundedGroups }));
      this.metrics.refundedGroups.set(this.refundedGroups);
    } catch (err) {
      this.refundsDirty = true; // retried on the next loop turn
      this.o.logger.warn("could not publish admission refunds", { err: errorMessage(err) });
    }
  }

  private async ackAwaiting(): Promise<void> {
    this.markConsumed(this.awaitingCheckpoint);
    for (const m of this.awaitingCheckpoint) m.ack();
    this.awaitingCheckpoint = [];
    await this.o.nats.nc.flush();
  }

  private idsOf(msgs: readonly JsMsg[]): string[] {
    return msgs.map((m) => this.idOf.get(m) ?? "").filter((id) => id.length > 0);
  }

  private markConsumed(msgs: readonly JsMsg[]): void {
    for (const m of msgs) {
      const id = this.idOf.get(m);
      if (!id) continue;
      this.consumed.set(id, m.seq);
      // Consumed ids are answered by `consumed` before `heldSeq` is read: keep it to held ones.
      this.heldSeq.delete(id);
    }
  }

  /**
   * Resumes from the newest complete checkpoint in the run dir, if any: the engine loads its
   * weights and optimizer, the learner its accounting. Messages acked before it are not
   * redelivered; those consumed after it were never acked and come back from JetStream.
   */
  private async resume(signal: AbortSignal): Promise<boolean> {
    const { spec, engine, runDir, logger } = this.o;
    const found = latestCheckpoint(runDir, (dir, err) =>
      logger.warn("skipping an unreadable checkpoint", { dir, err: errorMessage(err) }),
    );
    if (!found) return false;
    const r = found.record;
    const loaded = await this.startupCall(() => engine.loadWeights(spec.model.name, found.dir, true), signal);
    if (!loaded) return false;
    if (loaded.policyVersion !== r.policy_version) {
      throw new LearnerError(
        `checkpoint ${found.dir}: the engine loaded policy version ${loaded.policyVersion}, the record says ${r.policy_version}`,
      );
    }
    const s = this.status;
    s.step = r.step;
    s.trajectoriesTrained = r.trajectories_trained;
    s.trajectoriesDropped = { ...r.trajectories_dropped };
    s.rewardMeanByStep = [...r.reward_mean_by_step];
    s.completionRateByStep = [...r.completion_rate_by_step];
    this.consumed = new Map(r.consumed_ids.map((id, i) => [id, r.consumed_seqs[i] ?? -1]));
    this.refundedGroups = r.refunded_groups ?? 0;
    await this.publishRefunds();
    this.lastCheckpointStep = r.step;
    this.setVersion(r.policy_version);
    this.metrics.step.set(r.step);
    if (r.label_snapshot) await this.restoreLabels(join(found.dir, r.label_snapshot), signal);
    logger.info("resumed from checkpoint", { dir: found.dir, step: r.step, policyVersion: r.policy_version });
    await this.o.events.emit({
      kind: "learner_resumed",
      step: r.step,
      message: `resumed from ${found.dir}`,
      values: { step: r.step, policy_version: r.policy_version, consumed: r.consumed_ids.length },
    });
    return true;
  }

  private async finish(): Promise<void> {
    await this.checkpoint();
    const s = this.status;
    s.finished = true;
    const dropped = Object.values(s.trajectoriesDropped).reduce((a, b) => a + b, 0);
    await this.o.events.emit({
      kind: "run_finished",
      step: s.step,
      values: {
        steps: s.step,
        policy_version: s.policyVersion,
        trajectories_trained: s.trajectoriesTrained,
        trajectories_dropped: dropped,
        reward_mean_last: s.rewardMeanByStep.at(-1) ?? 0,
      },
    });
  }

  private async publishPolicy(): Promise<void> {
    // The inference backend first: the KV record only ever names a version that is served.
    // A failure after the first publish is reported (event + metric) and the record keeps
    // the last served version; the first one failing is fatal (nothing could be served).
    const served = await this.weights.publish(this.status.policyVersion, this.status.step);
    if (!served) return;
    const record: contracts.PolicyRecord = {
      version: this.status.policyVersion,
      weightsUri: served.weightsUri,
      publishedAtMs: Date.now(),
      step: this.status.step,
      servedModel: served.servedModel,
    };
    await this.kv!.put("policy", contracts.PolicyRecord.encode(record).finish());
  }

  /** Startup engine calls retry while the engine comes up (UNAVAILABLE, deadline). */
  private async startupCall<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
    const deadline = this.now() + this.o.spec.learner.stepTimeoutMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const retryable = err instanceof SluiceError && err.retryable;
        if (!retryable || signal.aborted) throw err;
        if (this.now() >= deadline)
          throw new DeadlineError("engine at startup", this.o.spec.learner.stepTimeoutMs, { cause: err });
        this.o.logger.warn("engine not ready; retrying", { err: errorMessage(err) });
        await sleep(STARTUP_RETRY_MS, signal);
        if (signal.aborted) return undefined;
      }
    }
  }

  private extendAckDeadlines(): void {
    for (const m of [...this.inStep, ...this.awaitingCheckpoint, ...this.buffer.heldMessages()]) m.working();
  }

  private setVersion(v: number): void {
    this.status.policyVersion = v;
    this.metrics.policyVersion.set(v);
  }

  private countDrop(reason: DropReason): void {
    this.status.trajectoriesDropped[reason] = (this.status.trajectoriesDropped[reason] ?? 0) + 1;
    this.metrics.dropped.inc({ reason });
  }
}
