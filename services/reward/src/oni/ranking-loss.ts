/**
 * ONI's ranking reward model loss: Bradley–Terry with soft labels (Zheng et al., arXiv
 * 2410.23022). Reference implementation for tests; the engine trains with the same formula.
 */

export type RankingAnswer = "FIRST" | "SECOND" | "TIE";

/** FIRST → ỹ = 0, SECOND → ỹ = 1, TIE → ỹ = 0.5. */
export function rankingSoftLabel(answer: RankingAnswer): number {
  return answer === "FIRST" ? 0 : answer === "SECOND" ? 1 : 0.5;
}

/** log softmax(r₁, r₂), numerically stable. */
export function logSoftmax2(r1: number, r2: number): [number, number] {
  const m = Math.max(r1, r2);
  const lse = m + Math.log(Math.exp(r1 - m) + Math.exp(r2 - m)); // log(e^r₁ + e^r₂)
  return [r1 - lse, r2 - lse];
}

/** L = −[(1−ỹ) log softmax(r₁,r₂)₀ + ỹ log softmax(r₁,r₂)₁] (ONI, arXiv 2410.23022). */
export function bradleyTerrySoftLoss(r1: number, r2: number, yTilde: number): number {
  if (!(yTilde >= 0 && yTilde <= 1)) throw new RangeError(`soft label must be in [0, 1], got ${yTilde}`);
  const [l0, l1] = logSoftmax2(r1, r2);
  return -((1 - yTilde) * l0 + yTilde * l1); // L = −[(1−ỹ)·logσ₀ + ỹ·logσ₁]
}

/** Mean loss over a batch of pairs: r1_B, r2_B scores, y_B soft labels. */
export function bradleyTerryBatchLoss(
  r1_B: readonly number[],
  r2_B: readonly number[],
  y_B: readonly number[],
): number {
  if (r1_B.length !== r2_B.length || r1_B.length !== y_B.length || r1_B.length === 0) {
    throw new RangeError(`batch lengths must be equal and non-zero (${r1_B.length}, ${r2_B.length}, ${y_B.length})`);
  }
  let total = 0;
  for (let i = 0; i < r1_B.length; i++) total += bradleyTerrySoftLoss(r1_B[i] ?? 0, r2_B[i] ?? 0, y_B[i] ?? 0);
  return total / r1_B.length;
}
