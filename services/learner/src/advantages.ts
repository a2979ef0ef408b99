/**
 * Group-relative advantage estimators. Every function takes the rewards of the valid
 * members of one group (infrastructure failures already removed, see failures.ts) and
 * returns one advantage per member, in the same order.
 */

export type AdvantageEstimator = "grpo" | "dr_grpo" | "rloo" | "reinforce_pp";
/** Which standard deviation GRPO divides by. The spec default is `population`. */
export type StdNormalization = "population" | "sample" | "none";

export interface AdvantageOptions {
  estimator: AdvantageEstimator;
  /** Only used by GRPO; default population (divide by G, not G − 1). */
  stdNormalization?: StdNormalization;
  /** Added to the std so an all-equal group gives 0, not NaN. Default 1e-6. */
  epsilon?: number;
}

export const DEFAULT_ADVANTAGE_EPSILON = 1e-6;

export function mean(values_G: readonly number[]): number {
  if (values_G.length === 0) return 0;
  let sum = 0;
  for (const v of values_G) sum += v;
  return sum / values_G.length;
}

/**
 * Standard deviation of a group.
 * population: sqrt(Σ (r_i − mean)² / G); sample (Bessel): sqrt(Σ (r_i − mean)² / (G − 1)).
 * A sample std of one value is 0 (no spread is observable).
 */
export function groupStd(values_G: readonly number[], kind: "population" | "sample"): number {
  const g = values_G.length;
  const denom = kind === "population" ? g : g - 1;
  if (denom <= 0) return 0;
  const m = mean(values_G);
  let ss = 0;
  for (const v of values_G) ss += (v - m) * (v - m);
  return Math.sqrt(ss / denom);
}

/** GRPO (Shao et al. 2024, DeepSeekMath, arXiv 2402.03300, §4.1.2). */
export function grpoAdvantages(
  rewards_G: readonly number[],
  std: StdNormalization = "population",
  epsilon = DEFAULT_ADVANTAGE_EPSILON,
): number[] {
  const m = mean(rewards_G);
  if (std === "none") {
    // Â_i = r_i − mean_g r  (GRPO without the std division)
    return rewards_G.map((r) => r - m);
  }
  const s = groupStd(rewards_G, std);
  // Â_i = (r_i − mean_g r) / (std_g r + ε)   (Shao et al. 2024, eq. in §4.1.2)
  return rewards_G.map((r) => (r - m) / (s + epsilon));
}

/** Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training", arXiv 2503.20783). */
export function drGrpoAdvantages(rewards_G: readonly number[]): number[] {
  const m = mean(rewards_G);
  // Â_i = r_i − mean_g r   (no std division: removes the question-difficulty bias, Liu 2025 §3.1)
  return rewards_G.map((r) => r - m);
}

/** RLOO (Ahmadian et al. 2024, "Back to Basics", arXiv 2402.14740). A group of one gets 0. */
export function rlooAdvantages(rewards_G: readonly number[]): number[] {
  const g = rewards_G.length;
  if (g < 2) return rewards_G.map(() => 0);
  let sum = 0;
  for (const r of rewards_G) sum += r;
  // Â_i = r_i − (1 / (G − 1)) Σ_{j≠i} r_j   (leave-one-out baseline, Ahmadian 2024 eq. 7)
  return rewards_G.map((r) => r - (sum - r) / (g - 1));
}

export function groupAdvantages(rewards_G: readonly number[], o: AdvantageOptions): number[] {
  switch (o.estimator) {
    case "grpo":
      return grpoAdvantages(rewards_G, o.stdNormalization ?? "population", o.epsilon ?? DEFAULT_ADVANTAGE_EPSILON);
    case "dr_grpo":
      return drGrpoAdvantages(rewards_G);
    case "rloo":
      return rlooAdvantages(rewards_G);
    case "reinforce_pp":
      // The group baseline only; the batch-level normalisation follows in the step batch.
      return drGrpoAdvantages(rewards_G);
  }
}

/**
 * REINFORCE++ with baseline (Hu et al. 2025, arXiv 2501.03262): after subtracting each
 * group's mean, advantages are normalised over the whole batch,
 *   Â ← (Â − mean_batch Â) / (std_batch Â + ε),
 * which keeps the scale stable without GRPO's per-group std (population std here).
 */
export function batchNormalize(values: readonly number[], epsilon = DEFAULT_ADVANTAGE_EPSILON): number[] {
  const m = mean(values);
  const s = groupStd(values, "population");
  return values.map((v) => (v - m) / (s + epsilon));
}
