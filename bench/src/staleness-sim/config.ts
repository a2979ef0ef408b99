import type { LognormalParams } from "./lognormal.js";

/** One simulated run. Times are seconds of simulated time. */
export interface SimConfig {
  seed: number;
  /** Learner steps to run (the run ends when the learner publishes version `steps`). */
  steps: number;
  /** η, the staleness bound of admission and of the learner's consumption filter. */
  maxStaleness: number;
  /**
   * true: a weight update interrupts the generations in flight, which resume under the new
   * weights after it (each token keeps the version that produced it). false: the update
   * waits until the generations in flight finish (no new one starts meanwhile).
   */
  partialRollouts: boolean;
  /** G */
  groupSize: number;
  /** B */
  groupsPerStep: number;
  /** Actors, each with `slotsPerActor` concurrent episodes (rollout.maxConcurrentEpisodes). */
  actors: number;
  slotsPerActor: number;
  /** Wall time of one episode (generation + tool execution), truncated at the episode timeout. */
  episode: LognormalParams;
  /** Turns per episode: each turn is one generation call followed by tool execution. */
  turnsPerEpisode: number;
  /** Share of an episode's time spent generating (the rest runs tools in the sandbox). */
  generationShare: number;
  /** Learner compute per step (forward/backward + optimiser over B·G trajectories). */
  learnerStepS: number;
  /** Loading new weights into the inference servers; nothing generates meanwhile. */
  weightSyncS: number;
  /** Partial rollouts: re-prefill of an interrupted generation when it resumes. */
  resumeOverheadS: number;
  /** The learner's incomplete-group deadline (GroupBuffer groupTimeoutMs, in seconds). */
  groupTimeoutS: number;
  /**
   * exact: the actors' admission budget is steps·B groups, as in production (a run whose
   * learner drops a whole group then cannot finish); open: no budget, the simulation just
   * stops at `steps` (what the throughput figures use).
   */
  admissionBudget: "exact" | "open";
  /**
   * Give a group's admission slot back when the learner drops every member of it (what
   * production does through the learner's KV admission_refunds). False is the what-if of
   * not refunding: each such group then shrinks the staleness window for the rest of the
   * run, and a run with the exact budget never gets its last step.
   */
  releaseDroppedGroups: boolean;
}

/**
 * SWE-like defaults. Episode wall time: lognormal, median 45 s, σ = 1.0 (mean ≈ 74 s,
 * p90 ≈ 162 s, p99 ≈ 460 s), cut at a 900 s timeout; 10 turns, 60% of the time generating.
 * 4 actors × 16 slots = 64 concurrent episodes = one step's B·G = 8·8 trajectories (the
 * inference capacity a synchronous run needs). Learner step 40 s, weight sync 8 s, resume
 * re-prefill 1 s.
 */
export const SWE_LIKE: SimConfig = {
  seed: 1,
  steps: 200,
  maxStaleness: 0,
  partialRollouts: true,
  groupSize: 8,
  groupsPerStep: 8,
  actors: 4,
  slotsPerActor: 16,
  episode: { medianS: 45, sigma: 1.0, capS: 900 },
  turnsPerEpisode: 10,
  generationShare: 0.6,
  learnerStepS: 40,
  weightSyncS: 8,
  resumeOverheadS: 1,
  groupTimeoutS: 1800,
  admissionBudget: "open",
  releaseDroppedGroups: true,
};

export const ETAS = [0, 1, 2, 4, 8] as const;
