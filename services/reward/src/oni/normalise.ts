/**
 * Optional normalisation of ONI's ranking reward (Zheng et al., arXiv 2410.23022):
 * r̂ = (r − μ) / σ with running mean/std, then r̂ · 1[r̂ > −0.5]. The public code
 * computes this but feeds the raw value, so both steps are switches.
 */
export interface RankingTransformConfig {
  normalise: boolean;
  threshold: boolean;
  thresholdValue: number;
}

/** Running mean and standard deviation (Welford). */
export class RunningMeanStd {
  private n = 0;
  private mu = 0;
  private m2 = 0;

  update(x: number): void {
    this.n++;
    const d = x - this.mu;
    this.mu += d / this.n; // μ_n = μ_{n−1} + (x − μ_{n−1}) / n
    this.m2 += d * (x - this.mu); // M2_n = M2_{n−1} + (x − μ_{n−1})(x − μ_n)
  }

  get count(): number {
    return this.n;
  }
  get mean(): number {
    return this.mu;
  }
  /** Population standard deviation; 0 before two samples. */
  get std(): number {
    return this.n < 2 ? 0 : Math.sqrt(this.m2 / this.n);
  }

  /** r̂ = (x − μ) / max(σ, eps). */
  normalise(x: number, eps = 1e-8): number {
    return (x - this.mu) / Math.max(this.std, eps); // r̂ = (r − μ) / σ
  }
}

/** r̂ · 1[r̂ > t], t = −0.5 in ONI. */
export function thresholdReward(rHat: number, t = -0.5): number {
  return rHat > t ? rHat : 0; // r̂ · 1[r̂ > −0.5]
}

/** Applies the configured switches to a raw ranking score; updates the running stats when normalising. */
export function transformRankingReward(raw: number, stats: RunningMeanStd, config: RankingTransformConfig): number {
  let r = raw;
  if (config.normalise) {
    stats.update(raw);
    r = stats.normalise(raw);
  }
  return config.threshold ? thresholdReward(r, config.thresholdValue) : r;
}
