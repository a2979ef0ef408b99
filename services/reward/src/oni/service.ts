import {
  errorMessage,
  experimentSubjects,
  withDeadline,
  type contracts,
  type Logger,
  type NatsHandles,
  type OniConfig,
  type RewardModelApi,
  type ServiceContext,
} from "@sluice/common";
import { OniModelScorer } from "../channels/oni-model.js";
import { UnsupportedConfigError } from "../errors.js";
import { stepAnnotationKey, stepAnnotationText } from "./annotation-key.js";
import { AnnotationTexts, rankingPairKey, rankingPairText } from "./annotation-texts.js";
import { RewardModelMetrics } from "./rm-metrics.js";
import { RewardModelTrainer, rewardModelKind } from "./rm-trainer.js";
import { encodeAnnotation } from "./annotation-messages.js";
import { AnnotatorMetrics } from "./annotator-metrics.js";
import { Annotator } from "./annotator.js";
import { KvLabelStore, labelBucketName } from "./label-store.js";
import { serveLabelSnapshots } from "./snapshot-responder.js";

export interface OniServiceOptions {
  experiment: string;
  config: OniConfig;
  nats: NatsHandles;
  registry: ServiceContext["registry"];
  logger: Logger;
  /** Deadline for the annotator loop to exit on stop. */
  stopTimeoutMs?: number;
  /** The engine's reward models (required for rewardType classification / ranking). */
  rewardModels?: Pick<RewardModelApi, "create" | "train" | "score">;
}

/** ONI inside the reward service: the label store and the annotator loop. */
export interface OniService {
  readonly labels: KvLabelStore;
  readonly annotator: Annotator;
  /** Texts behind annotation keys (what the reward model trains on). */
  readonly texts: AnnotationTexts;
  /** Classification / ranking: the reward-model trainer and the intrinsic channel's scorer. */
  readonly trainer?: RewardModelTrainer;
  readonly modelScorer?: OniModelScorer;
  /** Enqueues every turn of a trajectory (never waits); returns how many were newly queued. */
  enqueueTrajectory(t: contracts.Trajectory): number;
  stop(): Promise<void>;
}

/**
 * Opens the label store and runs ONI's annotator (Zheng et al., arXiv 2410.23022) in this
 * process. Newly queued steps are published on `annotRequest`, stored labels on
 * `annotResult` (JSON), so other components can follow without asking the reward service.
 */
export async function startOniService(o: OniServiceOptions): Promise<OniService> {
  const rm = o.rewardModels;
  if (o.config.rewardType !== "retrieval" && !rm) {
    throw new UnsupportedConfigError(`oni.rewardType "${o.config.rewardType}" needs the engine's reward models`);
  }
  const s = experimentSubjects(o.experiment);
  const log = o.logger.child({ loop: "oni-annotator" });
  const publish = (subject: string, data: Uint8Array): void => {
    try {
      o.nats.nc.publish(subject, data);
    } catch (err) {
      log.warn("publishing an ONI annotation message failed", { subject, err: errorMessage(err) });
    }
  };
  const labels = await KvLabelStore.open(o.nats.nc, labelBucketName(o.experiment, o.config.labelBucketSuffix));
  const annotator = new Annotator({
    annotator: o.config.annotator,
    judge: o.config.judge,
    parser: o.config.parser,
    sink: labels,
    metrics: new AnnotatorMetrics(o.registry),
    onLabels: (batch, version) =>
      publish(s.annotResult, encodeAnnotation({ version, labels: Object.fromEntries(batch) })),
    onError: (err) => log.warn("ONI annotation batch failed; items requeued", { err: errorMessage(err) }),
  });
  const texts = new AnnotationTexts(o.config.rewardModel.textCacheCap);
  let trainer: RewardModelTrainer | undefined;
  let modelScorer: OniModelScorer | undefined;
  if (rm && o.config.rewardType !== "retrieval") {
    const m = o.config.rewardModel;
    const created = await rm.create({
      name: m.name,
      kind: rewardModelKind(o.config.rewardType),
      tinyJson: m.tiny ? JSON.stringify(m.tiny) : "",
      loadPath: m.loadPath,
      seed: m.seed,
      maxTokens: m.maxTokens,
      optimizer: { learningRate: o.config.schedule.learningRate, weightDecay: 0, maxGradNorm: 0 },
    });
    log.info("ONI reward model ready", { name: m.name, created: created.created, version: created.info?.version });
    const rmMetrics = new RewardModelMetrics(o.registry);
    const rmLog = o.logger.child({ loop: "oni-reward-model" });
    trainer = new RewardModelTrainer({
      config: o.config,
      rm,
      labels,
      texts,
      metrics: rmMetrics,
      onError: (err) => rmLog.warn("ONI reward-model training step failed", { err: errorMessage(err) }),
    });
    modelScorer = new OniModelScorer(o.config, rm, rmMetrics, (err) =>
      rmLog.warn("ONI reward-model scoring failed; intrinsic reward 0", { err: errorMessage(err) }),
    );
  }
  const abort = new AbortController();
  const running = [annotator.run(abort.signal), ...(trainer ? [trainer.run(abort.signal)] : [])];
  const snapshots = serveLabelSnapshots(o.experiment, o.nats, labels, o.logger.child({ loop: "oni-snapshots" }));
  const enqueue = (key: string, text: string, t: contracts.Trajectory, turn: number): boolean => {
    if (annotator.enqueue(key, text) !== "queued") return false;
    publish(s.annotRequest, encodeAnnotation({ key, text, trajectoryId: t.trajectoryId, turn }));
    return true;
  };
  let previousNew: string | undefined; // ranking: the last newly seen step, paired with the next
  return {
    labels,
    annotator,
    texts,
    trainer,
    modelScorer,
    enqueueTrajectory(t) {
      let queued = 0;
      t.turns.forEach((turn, i) => {
        const key = stepAnnotationKey(turn, o.config.keyHexChars);
        const text = stepAnnotationText(turn);
        const isNew = texts.addText(key, text);
        if (o.config.rewardType !== "ranking") {
          if (enqueue(key, text, t, i)) queued++;
          return;
        }
        // Ranking: ONI's judge compares two observations; each new step is paired with the
        // previous new one, and the pair is annotated under its own key.
        if (!isNew) return;
        if (previousNew !== undefined && previousNew !== key) {
          const first = texts.text(previousNew);
          if (first !== undefined) {
            const pairKey = rankingPairKey(previousNew, key, o.config.keyHexChars);
            texts.addPair(pairKey, { first: previousNew, second: key });
            if (enqueue(pairKey, rankingPairText(first, text), t, i)) queued++;
          }
        }
        previousNew = key;
      });
      return queued;
    },
    async stop() {
      snapshots.stop();
      abort.abort();
      await withDeadline(Promise.all(running), o.stopTimeoutMs ?? 10_000, "ONI annotator stop").catch((err: unknown) =>
        log.warn("ONI annotator did not stop in time", { err: errorMessage(err) }),
      );
    },
  };
}
