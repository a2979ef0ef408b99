import { mixSeed, mulberry32, shuffled, type contracts } from "@sluice/common";
import { batchNormalize, groupAdvantages, mean, type AdvantageOptions } from "./advantages.js";
import type { Ackable, ReadyGroup } from "./group-buffer.js";
import { buildWithContext, type GuidedContextMode, type GuidedSequence } from "./guided-sequence.js";
import { turnAdvantages } from "./turn-advantages.js";

/** Everything one learner step sends to the engine, derived from B ready groups. */
export interface StepBatch {
  /** Sequences with at least one loss token (others carry no gradient). */
  sequences: contracts.TrainingSequence[];
  totalLossTokens: number;
  /** Valid trajectories consumed by the step, including zero-advantage ones. */
  trained: number;
  /** Mean episode reward over the valid trajectories of the step. */
  rewardMean: number;
  /** Valid trajectories of the step whose episode submitted (Outcome.submitted). */
  submitted: number;
  /**
   * CR, the completion rate (G-RA, arXiv 2508.10548): `submitted / trained`, the share of
   * the step's valid episodes that submitted; 0 for a step without valid trajectories.
   */
  completionRate: number;
  /** advantage per trajectory id (for inspection and tests). */
  advantages: Map<string, number>;
  /** Agent-RLVR: sequences stripped of their guidance, whose behaviour logprobs the learner recomputes. */
  guided: GuidedSequence[];
  /** Guided trajectories that could not be stripped (span unknown) and train with their guided context. */
  unstrippable: number;
}

/**
 * Advantages per group (statistics over the valid members only: infra failures were
 * removed by the buffer), then one TrainingSequence per trajectory.
 */
export interface StepBatchOptions extends AdvantageOptions {
  /**
   * episode: one advantage per trajectory from its total reward. turn: one per turn from
   * the per-turn rewards (see turn-advantages.ts); a group where any member lacks
   * per-turn rewards falls back to episode-level credit.
   */
  creditAssignment?: "episode" | "turn";
  /** Agent-RLVR training context of guided re-attempts (spec.guidance.context); default keep. */
  guidedContext?: GuidedContextMode;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const trajectoryIdOf = (s: { scored: contracts.ScoredTrajectory }): string => s.scored.trajectory?.trajectoryId ?? "";

/**
 * Groups by id and members by trajectory id: the engine sees the same batch in the same
 * order whatever order the messages arrived in (floating-point sums depend on order, and
 * a reproducible run needs bit-identical updates).
 */
function canonicalOrder<M extends Ackable>(groups: readonly ReadyGroup<M>[]): ReadyGroup<M>[] {
  return [...groups]
    .sort((a, b) => byId(a.groupId, b.groupId))
    .map((g) => ({ ...g, valid: [...g.valid].sort((a, b) => byId(trajectoryIdOf(a), trajectoryIdOf(b))) }));
}

/** REINFORCE++: every advantage value of the step (episode or per-turn) normalised together. */
function normalizeOverBatch(rows: { episode: number; turns?: number[] }[]): void {
  const episodes = batchNormalize(rows.map((r) => r.episode));
  rows.forEach((r, i) => (r.episode = episodes[i] ?? 0));
  const flat = rows.flatMap((r) => r.turns ?? []);
  if (flat.length === 0) return;
  const normalized = batchNormalize(flat);
  let k = 0;
  for (const r of rows) if (r.turns) r.turns = r.turns.map(() => normalized[k++] ?? 0);
}

export function buildStepBatch<M extends Ackable>(unordered: readonly ReadyGroup<M>[], o: StepBatchOptions): StepBatch {
  const groups = canonicalOrder(unordered);
  const sequences: contracts.TrainingSequence[] = [];
  const advantages = new Map<string, number>();
  const rewards: number[] = [];
  let submitted = 0;
  let totalLossTokens = 0;
  const guided: GuidedSequence[] = [];
  let unstrippable = 0;
  // Per trajectory: one episode advantage, and per-turn advantages under turn credit.
  const rows: { s: ReadyGroup<M>["valid"][number]; episode: number; turns?: number[] }[] = [];
  for (const g of groups) {
    const rewards_G = g.valid.map((s) => s.scored.reward);
    const adv_G = groupAdvantages(rewards_G, o);
    const perTurn = o.creditAssignment === "turn" && g.valid.every(hasPerTurnRewards);
    const adv_G_T = perTurn
      ? turnAdvantages(
          g.valid.map((s) => s.scored.perTurnReward),
          o,
        )
      : undefined;
    g.valid.forEach((s, i) => rows.push({ s, episode: adv_G[i] ?? 0, ...(adv_G_T ? { turns: adv_G_T[i] } : {}) }));
  }
  if (o.estimator === "reinforce_pp") normalizeOverBatch(rows);
  for (const { s, episode, turns } of rows) {
    const t = s.scored.trajectory!;
    advantages.set(t.trajectoryId, episode);
    rewards.push(s.scored.reward);
    if (t.outcome?.submitted === true) submitted++;
    const {
      built,
      guided: stripped,
      unstrippable: cannotStrip,
    } = buildWithContext(t, turns ?? episode, o.guidedContext ?? "keep");
    if (cannotStrip) unstrippable++;
    if (built.lossTokens === 0) continue;
    if (stripped) guided.push({ index: sequences.length, ...stripped });
    sequences.push(built.sequence);
    totalLossTokens += built.lossTokens;
  }
  const trained = rewards.length;
  // CR = #submitted / #valid episodes of the step
  const completionRate = trained > 0 ? submitted / trained : 0;
  return {
    sequences,
    totalLossTokens,
    trained,
    rewardMean: mean(rewards),
    submitted,
    completionRate,
    advantages,
    guided,
    unstrippable,
  };
}

function hasPerTurnRewards(s: { scored: contracts.ScoredTrajectory }): boolean {
  const turns = s.scored.trajectory?.turns.length ?? 0;
  return turns > 0 && s.scored.perTurnReward.length === turns;
}

/** Splits into microbatches of at most `size` sequences. */
export function microbatches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * PPO mini-batches: the items shuffled by a seeded Fisher–Yates and split into `count`
 * near-equal parts (fewer when there are fewer items). Same seed, same split.
 */
export function miniBatches<T>(items: readonly T[], count: number, seed: number): T[][] {
  const order = shuffled(items, mulberry32(seed));
  const parts = Math.max(1, Math.min(count, order.length));
  const out: T[][] = [];
  for (let k = 0; k < parts; k++) {
    out.push(order.slice(Math.floor((k * order.length) / parts), Math.floor(((k + 1) * order.length) / parts)));
  }
  return out;
}

/** The seed of step `step`'s mini-batch split. */
export function miniBatchSeed(experimentSeed: number, step: number): number {
  return mixSeed(experimentSeed, step);
}

/** Loss tokens of one sequence (its loss mask's ones). */
export function lossTokensOf(sequence: contracts.TrainingSequence): number {
  let n = 0;
  for (const m of sequence.lossMask) n += m === 0 ? 0 : 1;
  return n;
}
