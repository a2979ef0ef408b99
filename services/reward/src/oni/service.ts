import {
  errorMessage,
  experimentSubjects,
  withDeadline,
  type contracts,
  type Logger,
  type NatsHandles,
  type OniConfig,
  type ServiceContext,
} from "@sluice/common";
import { UnsupportedConfigError } from "../errors.js";
import { stepAnnotationKey, stepAnnotationText } from "./annotation-key.js";
import { encodeAnnotation } from "./annotation-messages.js";
import { AnnotatorMetrics } from "./annotator-metrics.js";
import { Annotator } from "./annotator.js";
import { KvLabelStore, labelBucketName } from "./label-store.js";

export interface OniServiceOptions {
  experiment: string;
  config: OniConfig;
  nats: NatsHandles;
  registry: ServiceContext["registry"];
  logger: Logger;
  /** Deadline for the annotator loop to exit on stop. */
  stopTimeoutMs?: number;
}

/** ONI inside the reward service: the label store and the annotator loop. */
export interface OniService {
  readonly labels: KvLabelStore;
  readonly annotator: Annotator;
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
  if (o.config.rewardType !== "retrieval") {
    throw new UnsupportedConfigError(`oni.rewardType "${o.config.rewardType}" needs engine-trained reward models`);
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
  const abort = new AbortController();
  const running = annotator.run(abort.signal);
  return {
    labels,
    annotator,
    enqueueTrajectory(t) {
      let queued = 0;
      t.turns.forEach((turn, i) => {
        const key = stepAnnotationKey(turn, o.config.keyHexChars);
        const text = stepAnnotationText(turn);
        if (annotator.enqueue(key, text) !== "queued") return;
        queued++;
        publish(s.annotRequest, encodeAnnotation({ key, text, trajectoryId: t.trajectoryId, turn: i }));
      });
      return queued;
    },
    async stop() {
      abort.abort();
      await withDeadline(running, o.stopTimeoutMs ?? 10_000, "ONI annotator stop").catch((err: unknown) =>
        log.warn("ONI annotator did not stop in time", { err: errorMessage(err) }),
      );
    },
  };
}
