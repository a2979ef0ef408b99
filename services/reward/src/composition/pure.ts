/**
 * PURE min-form credit assignment (Cheng et al., arXiv 2504.15275): weights
 * `w_i = softmax_i(−r_i / T)`, transformed `r′_i = w_i · r_i`. As T → 0 the weight
 * concentrates on the smallest step reward, so `Σ_i r′_i → min_i r_i`.
 */
export function pureTransform(rewards: readonly number[], temperature: number): number[] {
  if (rewards.length === 0) return [];
  const logits = rewards.map((r) => -r / temperature);
  // Subtracting the largest logit keeps exp() finite; softmax is shift-invariant.
  const top = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - top));
  const total = exps.reduce((a, b) => a + b, 0);
  // w_i = softmax_i(−r_i/T); r′_i = w_i · r_i (PURE)
  return rewards.map((r, i) => ((exps[i] ?? 0) / total) * r);
}
