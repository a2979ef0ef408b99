import { contracts, errorMessage, mulberry32, sleep, type RewardModelApi, type OniConfig } from "@sluice/common";
import type { AnnotationTexts } from "./annotation-texts.js";
import type { RewardModelMetrics } from "./rm-metrics.js";
import { rewardModelSteps } from "./schedule.js";

/** What the trainer reads from the label store. */
export interface LabelSource {
  entries(): IterableIterator<[string, number]>;
  readonly size: number;
  readonly version: number;
}

export interface RewardModelTrainerOptions {
  config: OniConfig;
  rm: Pick<RewardModelApi, "train">;
  labels: LabelSource;
  texts: AnnotationTexts;
  metrics?: RewardModelMetrics;
  /** Seed of batch sampling; default the reward model's seed. */
  seed?: number;
  onError?: (err: unknown) => void;
}

/** What one training iteration did. */
export interface TickResult {
  steps: number;
  failed: number;
  trainable: number;
  loss?: number;
  accuracy?: number;
  version?: number;
}

/** Kind of the engine model a reward type trains. */
export function rewardModelKind(rewardType: OniConfig["rewardType"]): contracts.RewardModelKind {
  if (rewardType === "ranking") return contracts.RewardModelKind.REWARD_MODEL_KIND_RANKING;
  return contracts.RewardModelKind.REWARD_MODEL_KIND_CLASSIFICATION;
}

/** A label as a training target in [0, 1]: class label or soft preference ỹ (clamped). */
export function targetOf(label: number): number {
  return Math.min(1, Math.max(0, label));
}

/**
 * Trains ONI's reward model in the engine on the label store's labels (Zheng et al., arXiv
 * 2410.23022) with ONI's schedule: while |D| < burstUntilLabels, `burstSteps` gradient steps
 * per arrival of new labels; afterwards `steadySteps` per training iteration (one iteration =
 * one trainer tick, every `rewardModel.trainIntervalMs`). Each step is one batch of
 * `schedule.batchSize` labelled items drawn without replacement at Adam lr
 * `schedule.learningRate`. Classification trains on (step text, label); ranking on
 * (first text, second text, ỹ) of labelled pairs.
 */
export class RewardModelTrainer {
  private readonly random: () => number;
  private seenLabelVersion = 0;
  private lastVersion = 0;

  constructor(private readonly o: RewardModelTrainerOptions) {
    this.random = mulberry32(o.seed ?? o.config.rewardModel.seed);
  }

  /** The reward-model version after the last successful step (0 before any). */
  get version(): number {
    return this.lastVersion;
  }

  /** One training iteration. Never throws; failed steps are counted and reported. */
  async tick(signal?: AbortSignal): Promise<TickResult> {
    const labelVersion = this.o.labels.version;
    const newLabels = labelVersion > this.seenLabelVersion;
    const ranking = this.o.config.rewardType === "ranking";
    const pairs = ranking ? this.pairExamples() : [];
    const examples = ranking ? [] : this.textExamples();
    const trainable = ranking ? pairs.length : examples.length;
    this.o.metrics?.trainableExamples.set(trainable);
    const result: TickResult = { steps: 0, failed: 0, trainable };
    if (trainable === 0) return result;
    const n = rewardModelSteps(this.o.labels.size, newLabels, this.o.config.schedule); // ONI schedule
    const optimizer = { learningRate: this.o.config.schedule.learningRate, weightDecay: 0, maxGradNorm: 0 };
    const batchSize = this.o.config.schedule.batchSize;
    for (let i = 0; i < n && signal?.aborted !== true; i++) {
      try {
        const reply = await this.o.rm.train({
          name: this.o.config.rewardModel.name,
          optimizer,
          pairs: this.sample(pairs, batchSize),
          examples: this.sample(examples, batchSize),
        });
        result.steps++;
        result.loss = reply.loss;
        result.accuracy = reply.accuracy;
        result.version = reply.version;
        this.lastVersion = reply.version;
        this.o.metrics?.steps.inc();
        this.o.metrics?.loss.set(reply.loss);
        this.o.metrics?.accuracy.set(reply.accuracy);
        this.o.metrics?.version.set(reply.version);
      } catch (err) {
        result.failed++;
        this.o.metrics?.trainFailures.inc();
        this.o.onError?.(err);
        break; // the next tick retries; the labels stay "new" until a burst completes
      }
    }
    if (result.failed === 0) this.seenLabelVersion = labelVersion;
    return result;
  }

  /** Ticks every `trainIntervalMs` until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.tick(signal);
      } catch (err) {
        this.o.onError?.(new Error(`ONI reward-model tick failed: ${errorMessage(err)}`, { cause: err }));
      }
      await sleep(this.o.config.rewardModel.trainIntervalMs, signal).catch(() => undefined);
    }
  }

  private textExamples(): contracts.LabelledText[] {
    const out: contracts.LabelledText[] = [];
    for (const [key, label] of this.o.labels.entries()) {
      const text = this.o.texts.text(key);
      if (text !== undefined) out.push({ text, label: targetOf(label) });
    }
    return out;
  }

  private pairExamples(): contracts.TextPair[] {
    const out: contracts.TextPair[] = [];
    for (const [key, label] of this.o.labels.entries()) {
      const pair = this.o.texts.pair(key);
      if (pair) out.push({ ...pair, label: targetOf(label) }); // ỹ: FIRST → 0, SECOND → 1, TIE → 0.5
    }
    return out;
  }

  /** min(k, n) items without replacement (partial Fisher–Yates, seeded). */
  private sample<T>(items: readonly T[], k: number): T[] {
    const a = [...items];
    const m = Math.min(k, a.length);
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(this.random() * (a.length - i));
      const tmp = a[i] as T;
      a[i] = a[j] as T;
      a[j] = tmp;
    }
    return a.slice(0, m);
  }
}
