import type { contracts } from "@sluice/common";
import type { Task } from "../environment.js";

/** Agent-RLVR's guidance kinds (Da et al., arXiv 2506.11425, §3). */
export type GuidanceKind = "environment_feedback" | "plan_hint" | "interaction_hint";

export const GUIDANCE_KINDS: readonly GuidanceKind[] = ["environment_feedback", "plan_hint", "interaction_hint"];

/** What a provider sees: the task and the failed attempt it guides. */
export interface GuidanceInput {
  task: Task;
  /** The failed attempt (its verifier report, outcome, turns). */
  failed: contracts.Trajectory;
  /** Round of the re-attempt this guidance is for, from 1. */
  round: number;
  /** Environment feedback already built for this round (teachers may quote it); "" if none. */
  feedback: string;
  signal?: AbortSignal;
}

/** One piece of guidance text with its provenance (GuidanceRecord.source). */
export interface GuidanceItem {
  kind: GuidanceKind;
  text: string;
  source: string;
}

/**
 * One pluggable guidance kind. `build` returns undefined when it has nothing to say for this
 * failure (e.g. no verifier report); a provider failure is reported by throwing
 * GuidanceProviderError, and the orchestrator goes on without that kind.
 */
export interface GuidanceProvider {
  readonly kind: GuidanceKind;
  build(input: GuidanceInput): Promise<GuidanceItem | undefined>;
}
