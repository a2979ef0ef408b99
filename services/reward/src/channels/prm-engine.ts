import { errorMessage, withDeadline, contracts, type PrmConfig, type RewardModelApi } from "@sluice/common";
import { stepAnnotationText } from "../oni/annotation-key.js";
import type { PrmScores } from "./prm.js";
import { rewardModelProducer } from "./oni-model.js";

/** PRM scores with the version of whatever produced them (the engine route sets it). */
export type VersionedPrmScores = PrmScores & { producerVersion?: string };

/** Scores every turn of a trajectory for the `prm` channel: the judge or the engine route. */
export interface PrmStepScorer {
  score(t: contracts.Trajectory, signal?: AbortSignal): Promise<VersionedPrmScores>;
}

/** Engine model kind of `reward.prm.engine.kind`. */
export function prmModelKind(kind: PrmConfig["engine"]["kind"]): contracts.RewardModelKind {
  return kind === "classification"
    ? contracts.RewardModelKind.REWARD_MODEL_KIND_CLASSIFICATION
    : contracts.RewardModelKind.REWARD_MODEL_KIND_REGRESSION;
}

/**
 * Makes sure the PRM model exists in the engine: with `engine.loadPath` it is created from
 * that directory when missing (an existing model of that name is reused); without it the
 * model must already be there. Throws RpcError (NOT_FOUND names the model) otherwise.
 */
export async function ensurePrmModel(
  config: PrmConfig,
  rm: Pick<RewardModelApi, "create" | "info">,
): Promise<contracts.RewardModelInfo | undefined> {
  const e = config.engine;
  if (e.loadPath === "") return (await rm.info(e.model)).info;
  return (await rm.create({ name: e.model, kind: prmModelKind(e.kind), loadPath: e.loadPath })).info;
}

/**
 * The discriminative PRM route (`reward.prm.source: engine`): one ScoreRewardModel call with
 * every turn's observation and action text; a regression model's score or a classification
 * model's probability σ(z) is the step score r_prm,t, clamped into `scoreRange`. Never throws:
 * a failed call or the deadline gives every turn the default score, counted in `failed`.
 */
export class EnginePrmScorer implements PrmStepScorer {
  private version = 0;

  constructor(
    private readonly config: PrmConfig,
    private readonly rm: Pick<RewardModelApi, "score">,
  ) {}

  async score(t: contracts.Trajectory, signal?: AbortSignal): Promise<VersionedPrmScores> {
    const name = this.config.engine.model;
    if (t.turns.length === 0) return { perTurn: [], failed: 0, unparsed: 0, producerVersion: this.producer() };
    const texts = t.turns.map((turn) => stepAnnotationText(turn));
    const fallback = this.config.parser.defaultScore;
    try {
      if (signal?.aborted === true) throw new Error("aborted");
      const reply = await withDeadline(
        this.rm.score(name, texts),
        this.config.engine.batchDeadlineMs,
        "PRM engine scoring",
      );
      const classification = reply.kind === contracts.RewardModelKind.REWARD_MODEL_KIND_CLASSIFICATION;
      const raw = classification ? reply.probabilities : reply.scores;
      if (raw.length !== texts.length)
        throw new Error(`engine returned ${raw.length} scores for ${texts.length} steps`);
      this.version = reply.version;
      const [lo, hi] = this.config.scoreRange;
      return {
        perTurn: raw.map((s) => Math.min(hi, Math.max(lo, s))),
        failed: 0,
        unparsed: 0,
        producerVersion: this.producer(),
      };
    } catch (err) {
      return {
        perTurn: texts.map(() => fallback),
        failed: texts.length,
        unparsed: 0,
        error: `PRM engine model ${name}: ${errorMessage(err)}`,
        producerVersion: this.producer(),
      };
    }
  }

  private producer(): string {
    return rewardModelProducer(this.config.engine.model, this.version);
  }
}
