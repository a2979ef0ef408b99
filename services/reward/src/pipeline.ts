import {
  DedupePublisher,
  contracts,
  ensureDurableConsumer,
  errorMessage,
  experimentSubjects,
  ConsumerPump,
  resolvePayload,
  sleep,
  withDeadline,
  SluiceError,
  ValidationError,
  type EventPublisher,
  type JsMsg,
  type Logger,
  type NatsHandles,
  type ObjectStore,
} from "@sluice/common";
import type { PrmScores } from "./channels/prm.js";
import type { PrmStepScorer } from "./channels/prm-engine.js";
import { TrajectoryRejectedError } from "./errors.js";
import { judgedChannels } from "./judged-channels.js";
import type { PrmMetrics } from "./prm-metrics.js";
import type { RewardMetrics } from "./reward-metrics.js";
import {
  buildChannels,
  isInfrastructureFailure,
  scoreTrajectory,
  type ChannelDeps,
  type RewardConfig,
} from "./scorer.js";

export const REWARD_DURABLE = "reward";

export interface RewardPipelineOptions {
  experiment: string;
  config: RewardConfig;
  nats: NatsHandles;
  /** Object store holding offloaded payloads (also used for oversize scored messages). */
  blobs: ObjectStore | undefined;
  events: EventPublisher;
  logger: Logger;
  metrics: RewardMetrics;
  /** Aborting stops the loop after the batch in hand. */
  signal: AbortSignal;
  batchSize?: number;
  maxAckPending?: number;
  ackWaitMs?: number;
  fetchExpiresMs?: number;
  /** Deadline for one object-store read or publish. */
  ioTimeoutMs?: number;
  /** What channels read besides the trajectory (ONI's label store). */
  deps?: ChannelDeps;
  /** ONI's annotator: every scored trajectory's turns are enqueued (never awaited). */
  oni?: { enqueueTrajectory(t: contracts.Trajectory): number };
  /** The PRM judge (or engine PRM); awaited per trajectory under its batch deadline. */
  prm?: PrmStepScorer;
  prmMetrics?: PrmMetrics;
}

export interface RunningPipeline {
  /** Resolves when the loop has exited. */
  readonly done: Promise<void>;
}

type Outcome = "scored" | "malformed" | "rejected" | "retry";

/**
 * Consumes trajectories from the durable `reward` consumer, scores them and publishes
 * ScoredTrajectory messages (msg id = trajectory id). Malformed and rejected messages
 * are reported on the events stream and terminated (never redelivered); transport
 * failures nak the message for a later retry. The loop never throws.
 */
export async function startRewardPipeline(o: RewardPipelineOptions): Promise<RunningPipeline> {
  const s = experimentSubjects(o.experiment);
  const batchSize = o.batchSize ?? 64;
  const ioTimeoutMs = o.ioTimeoutMs ?? 10_000;
  await ensureDurableConsumer(o.nats, {
    stream: s.trajStream,
    durable: REWARD_DURABLE,
    filterSubject: s.traj,
    maxAckPending: o.maxAckPending ?? 256,
    ackWaitMs: o.ackWaitMs ?? 30_000,
  });
  let pump = await ConsumerPump.start(o.nats, s.trajStream, REWARD_DURABLE);
  const publisher = new DedupePublisher(o.nats, o.blobs, ioTimeoutMs);
  const channels = buildChannels(o.config, o.deps);
  const log = o.logger.child({ loop: "reward-pipeline" });

  const handle = async (msg: JsMsg): Promise<Outcome> => {
    const stopTimer = o.metrics.startTimer();
    const where = { subject: msg.subject, seq: String(msg.seq) };
    let trajectory: contracts.Trajectory;
    try {
      const data = await withDeadline(resolvePayload(msg.data, msg.headers, o.blobs), ioTimeoutMs, "payload resolve");
      trajectory = decode(data);
    } catch (err) {
      // Non-retryable (undecodable bytes, a blob that is gone) is malformed; the rest may heal.
      if (!(err instanceof SluiceError) || err.retryable) {
        log.warn("payload not readable yet; will retry", { ...where, err: errorMessage(err) });
        return "retry";
      }
      o.metrics.recordMalformed();
      await o.events.emit({
        kind: "malformed_message",
        severity: "warning",
        message: `skipped malformed message: ${errorMessage(err)}`,
        attributes: where,
      });
      return "malformed";
    }
    const onPrm = async (scores: PrmScores): Promise<void> => {
      o.prmMetrics?.record(scores);
      if (scores.failed === 0) return;
      await o.events.emit({
        kind: "prm_judge_failed",
        severity: "warning",
        message: `PRM judge failed for ${scores.failed} of ${trajectory.turns.length} turns; default scores used: ${scores.error ?? ""}`,
        attributes: { ...where, trajectoryId: trajectory.trajectoryId, failedTurns: String(scores.failed) },
      });
    };
    const external = await judgedChannels(trajectory, o.config, o.prm, o.signal, onPrm, o.deps?.oniModel);
    let scored: contracts.ScoredTrajectory;
    try {
      scored = scoreTrajectory(trajectory, o.config, channels, Date.now, external);
    } catch (err) {
      if (!(err instanceof TrajectoryRejectedError)) throw err;
      o.metrics.recordRejected(err.reason);
      await o.events.emit({
        kind: "trajectory_rejected",
        severity: "warning",
        message: err.message,
        attributes: { ...where, trajectoryId: trajectory.trajectoryId, reason: err.reason },
      });
      return "rejected";
    }
    // ONI: annotation is asynchronous; the intrinsic reward is late-bound (0 until labelled).
    if (o.oni && !isInfrastructureFailure(trajectory)) o.oni.enqueueTrajectory(trajectory);
    try {
      const bytes = contracts.ScoredTrajectory.encode(scored).finish();
      await publisher.publish(s.scored, bytes, trajectory.trajectoryId);
    } catch (err) {
      log.warn("publishing scored trajectory failed; will retry", { ...where, err: errorMessage(err) });
      return "retry";
    }
    if (isInfrastructureFailure(trajectory)) {
      o.metrics.recordInfraFailed(contracts.failureKindToJSON(trajectory.failure));
    }
    o.metrics.recordScored([scored]);
    stopTimer();
    return "scored";
  };

  const loop = async (): Promise<void> => {
    while (!o.signal.aborted) {
      let batch: JsMsg[];
      try {
        batch = await withDeadline(
          pump.next(batchSize, o.fetchExpiresMs ?? 1_000),
          (o.fetchExpiresMs ?? 1_000) + ioTimeoutMs,
          "reward fetch",
        );
      } catch (err) {
        if (o.signal.aborted) break;
        log.warn("fetch failed; backing off and reopening the consumer", { err: errorMessage(err) });
        await sleep(500, o.signal);
        // The durable consumer keeps our place; a fresh pump resumes from it.
        await pump.stop().catch(() => undefined);
        try {
          pump = await ConsumerPump.start(o.nats, s.trajStream, REWARD_DURABLE);
        } catch (reopenErr) {
          log.warn("reopening the consumer failed; will retry", { err: errorMessage(reopenErr) });
        }
        continue;
      }
      // Messages of a batch are handled concurrently: PRM judge calls overlap.
      await Promise.all(
        batch.map(async (msg) => {
          let outcome: Outcome;
          try {
            outcome = await handle(msg);
          } catch (err) {
            log.error("unexpected error scoring a message; will retry", { subject: msg.subject, seq: msg.seq, err });
            outcome = "retry";
          }
          if (outcome === "retry") msg.nak(1_000);
          else if (outcome === "scored") msg.ack();
          // No reason argument: nats-server 2.9 does not parse "+TERM <reason>" and redelivers.
          else msg.term();
        }),
      );
    }
    log.info("reward pipeline stopped");
  };
  return { done: loop().finally(() => pump.stop().catch(() => undefined)) };
}

function decode(data: Uint8Array): contracts.Trajectory {
  let t: contracts.Trajectory;
  try {
    t = contracts.Trajectory.decode(data);
  } catch (cause) {
    throw new ValidationError(`not a Trajectory protobuf (${errorMessage(cause)})`, { cause });
  }
  // Without an id the message cannot be attributed, deduped or rejected by name.
  if (!t.trajectoryId) throw new ValidationError("decoded message has no trajectory_id");
  return t;
}
