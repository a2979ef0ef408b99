/** ONI's classification intrinsic reward (Zheng et al., arXiv 2410.23022). */

/** softmax(l₀, l₁)₁ = 1 / (1 + e^(l₀ − l₁)). */
export function positiveProbability(logit0: number, logit1: number): number {
  return 1 / (1 + Math.exp(logit0 - logit1)); // softmax(f_φ(m))₁
}

/** r_int = 1[p₁ > τ], τ = 0.5 by default (ONI, arXiv 2410.23022). */
export function classificationReward(p1: number, tau = 0.5): number {
  return p1 > tau ? 1 : 0; // r_int = 1[p₁ > τ]
}
