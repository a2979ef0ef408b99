import { mixSeed, mulberry32 } from "@sluice/common";

/**
 * A lognormal distribution given by its median and the σ of log-time, truncated at `capS`
 * (the episode timeout: an episode that would run longer ends there).
 *   X = median · exp(σ · Z),  Z ~ N(0, 1);  mean = median · exp(σ² / 2) before the cap.
 */
export interface LognormalParams {
  medianS: number;
  sigma: number;
  capS: number;
}

/** One standard normal from two uniforms in [0, 1) (Box–Muller, u1 kept away from 0). */
export function standardNormal(u1: number, u2: number): number {
  const u = Math.max(u1, Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * u2);
}

export function lognormalFromUniforms(p: LognormalParams, u1: number, u2: number): number {
  return Math.min(p.capS, p.medianS * Math.exp(p.sigma * standardNormal(u1, u2)));
}

/** A seeded sampler: the same seed gives the same sequence. */
export function lognormalSampler(p: LognormalParams, seed: number): () => number {
  const random = mulberry32(seed);
  return () => lognormalFromUniforms(p, random(), random());
}

/**
 * The duration of episode `index` of group `ordinal`: a pure function of (seed, ordinal,
 * index), so every configuration of a sweep sees the same tasks with the same durations
 * (common random numbers) whatever order it dispatches them in.
 */
export function episodeDurationS(p: LognormalParams, seed: number, ordinal: number, index: number): number {
  const random = mulberry32(mixSeed(mixSeed(seed, ordinal), index) || 1);
  return lognormalFromUniforms(p, random(), random());
}
