/**
 * ONI's episodic count bonus and the combination with the extrinsic reward
 * (Zheng et al., arXiv 2410.23022):
 *   r_t = c_ext · r_ext,t + c_int · r_int(m_t) · N_ep(m_t)^(−β)
 * where N_ep(m) counts occurrences of m in the current episode, this one included.
 */
export interface CombineConfig {
  cExt: number;
  cInt: number;
  beta: number;
}

/** Occurrence counts of annotation keys within one episode; reset at episode start. */
export class EpisodeCounter {
  private readonly counts = new Map<string, number>();

  /** Counts one more occurrence of `key` and returns N_ep(key), this one included. */
  observe(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }

  reset(): void {
    this.counts.clear();
  }
}

/** N_ep(m)^(−β) (ONI, arXiv 2410.23022). `n` ≥ 1. */
export function countBonus(n: number, beta: number): number {
  if (!(n >= 1)) throw new RangeError(`episodic count must be >= 1, got ${n}`);
  return Math.pow(n, -beta); // N_ep(m)^(−β)
}

/** r_t = c_ext · r_ext,t + c_int · r_int(m_t) · N_ep(m_t)^(−β) (ONI, arXiv 2410.23022). */
export function combineReward(rExt: number, rInt: number, n: number, config: CombineConfig): number {
  return config.cExt * rExt + config.cInt * rInt * countBonus(n, config.beta); // r_t = c_ext·r_ext + c_int·r_int·N^(−β)
}

/**
 * Combined per-step rewards of one episode: keys_T are the steps' annotation keys,
 * rExt_T and rInt_T their extrinsic and intrinsic rewards. Counts start fresh.
 */
export function combineEpisode(
  keys_T: readonly string[],
  rExt_T: readonly number[],
  rInt_T: readonly number[],
  config: CombineConfig,
): number[] {
  if (keys_T.length !== rExt_T.length || keys_T.length !== rInt_T.length) {
    throw new RangeError(
      `combineEpisode: lengths differ (keys ${keys_T.length}, r_ext ${rExt_T.length}, r_int ${rInt_T.length})`,
    );
  }
  const counter = new EpisodeCounter();
  return keys_T.map((key, t) => combineReward(rExt_T[t] ?? 0, rInt_T[t] ?? 0, counter.observe(key), config));
}
