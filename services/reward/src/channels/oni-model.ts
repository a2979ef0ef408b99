import { withDeadline, type contracts, type OniConfig, type RewardModelApi } from "@sluice/common";
import { stepAnnotationText } from "../oni/annotation-key.js";
import { classificationReward } from "../oni/classification.js";
import { countBonus, EpisodeCounter } from "../oni/count-bonus.js";
import { RunningMeanStd, transformRankingReward } from "../oni/normalise.js";
import type { RewardModelMetrics } from "../oni/rm-metrics.js";
import type { ChannelScorer } from "./channel.js";
import { ONI_CHANNEL, turnAnnotationKeys } from "./oni.js";

/** producer_version of the model-based ONI channel: `rm:<name>@<version>`. */
export function rewardModelProducer(name: string, version: number | string): string {
  return `rm:${name}@${version}`;
}

/**
 * r_int of one step from the reward model's output (ONI, arXiv 2410.23022):
 * classification r_int = 1[p₁ > τ]; ranking r_φ(m) with the optional running normalisation
 * and threshold (`oni.ranking`).
 */
export function intrinsicFromModel(
  config: OniConfig,
  score: number,
  probability: number | undefined,
  stats: RunningMeanStd,
): number {
  if (config.rewardType === "classification") {
    return classificationReward(probability ?? 0, config.classificationThreshold); // r_int = 1[p₁ > τ]
  }
  return transformRankingReward(score, stats, config.ranking); // r_φ(m), r̂ · 1[r̂ > t] when switched on
}

/**
 * ONI's classification / ranking intrinsic channel, scored by the engine-hosted reward model
 * at scoring time (late-bound: the same step's value changes as the model trains). Per turn
 * `r_int(m_t) · N_ep(m_t)^(−β)`, weight c_int, producer_version `rm:<name>@<version>`. An
 * untrained model (version 0) gives 0, like an unlabelled step in the retrieval variant.
 */
export class OniModelScorer {
  private readonly stats = new RunningMeanStd();
  private readonly cache = new Map<string, number>();
  private version = 0;

  constructor(
    private readonly config: OniConfig,
    private readonly rm: Pick<RewardModelApi, "score">,
    private readonly metrics?: RewardModelMetrics,
    private readonly onError?: (err: unknown) => void,
    private readonly cacheCap = 100_000,
  ) {}

  get modelName(): string {
    return this.config.rewardModel.name;
  }

  /** Scores a trajectory's steps with the current model. Never throws: failure → 0, gate closed. */
  async channel(t: contracts.Trajectory, signal?: AbortSignal): Promise<contracts.RewardChannel> {
    const keys_T = turnAnnotationKeys(t, this.config.keyHexChars);
    if (keys_T.length === 0) return this.value([], true);
    const unique = [...new Set(keys_T)];
    const textOf = new Map(keys_T.map((k, i) => [k, stepAnnotationText(t.turns[i] as contracts.Turn)]));
    let reply: contracts.ScoreRewardModelResponse;
    try {
      if (signal?.aborted === true) throw new Error("aborted");
      reply = await withDeadline(
        this.rm.score(
          this.modelName,
          unique.map((k) => textOf.get(k) ?? ""),
        ),
        this.config.rewardModel.scoreDeadlineMs,
        "ONI reward-model scoring",
      );
      if (reply.scores.length !== unique.length) {
        throw new Error(`engine returned ${reply.scores.length} scores for ${unique.length} texts`);
      }
    } catch (err) {
      this.metrics?.scoreFailures.inc();
      this.onError?.(err);
      return this.value(
        keys_T.map(() => 0),
        false,
      );
    }
    this.version = reply.version;
    this.metrics?.version.set(reply.version);
    const rInt = new Map<string, number>();
    unique.forEach((k, i) => {
      const r =
        reply.version === 0
          ? 0
          : intrinsicFromModel(this.config, reply.scores[i] ?? 0, reply.probabilities[i], this.stats);
      rInt.set(k, r);
      this.remember(k, r);
    });
    const counter = new EpisodeCounter();
    const perTurn = keys_T.map((k) => (rInt.get(k) ?? 0) * countBonus(counter.observe(k), this.config.beta)); // r_int(m_t)·N_ep(m_t)^(−β)
    this.metrics?.recordIntrinsic(perTurn);
    return this.value(perTurn, true);
  }

  /**
   * The synchronous face (scoring without the engine round trip): the last r_int this
   * process computed for each step (0 when never scored), with the model version it came from.
   */
  syncChannel(): ChannelScorer {
    return {
      name: ONI_CHANNEL,
      score: (t) => {
        const counter = new EpisodeCounter();
        const perTurn = turnAnnotationKeys(t, this.config.keyHexChars).map(
          (k) => (this.cache.get(k) ?? 0) * countBonus(counter.observe(k), this.config.beta),
        );
        return this.value(perTurn, true);
      },
    };
  }

  private producer(): string {
    return rewardModelProducer(this.modelName, this.version);
  }

  private value(perTurn: number[], gatePassed: boolean): contracts.RewardChannel {
    return {
      name: ONI_CHANNEL,
      value: perTurn.reduce((a, b) => a + b, 0),
      perTurn,
      producerVersion: this.producer(),
      gatePassed,
      weight: this.config.cInt,
    };
  }

  private remember(key: string, r: number): void {
    this.cache.delete(key);
    this.cache.set(key, r);
    if (this.cache.size > this.cacheCap) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
  }
}
