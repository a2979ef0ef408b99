import type { contracts } from "@sluice/common";
import { isGuided, stripGuidance, type GuidedContextMode } from "./guidance-strip.js";
import { buildTrainingSequence, type BuiltSequence } from "./sequence-builder.js";

export type { GuidedContextMode } from "./guidance-strip.js";

/** One guided sequence of the step: what it trains on and the guided context it was sampled in. */
export interface GuidedSequence {
  /** Index in the step's sequence list. */
  index: number;
  /** The stripped sequence (as built for training). */
  stripped: contracts.TrainingSequence;
  /** The same trajectory built with its guided context (strip_with_is only). */
  guided?: contracts.TrainingSequence;
}

/** A trajectory built for training under a context mode. */
export interface ContextBuilt {
  built: BuiltSequence;
  /** Set when the trajectory was stripped: the logprob recomputation needs it. */
  guided?: Omit<GuidedSequence, "index">;
  /** A guided trajectory that could not be stripped (span unknown): it trains with its guided context. */
  unstrippable: boolean;
}

/**
 * buildTrainingSequence under Agent-RLVR's context modes: `keep` and unguided trajectories
 * as they are; `strip` / `strip_with_is` without the guidance tokens (the guided build is
 * kept for strip_with_is, whose ratio's denominator is recomputed on it).
 */
export function buildWithContext(
  t: contracts.Trajectory,
  advantage: number | readonly number[],
  mode: GuidedContextMode,
): ContextBuilt {
  if (mode === "keep" || !isGuided(t)) return { built: buildTrainingSequence(t, advantage), unstrippable: false };
  const stripped = stripGuidance(t);
  if (!stripped) return { built: buildTrainingSequence(t, advantage), unstrippable: true };
  const built = buildTrainingSequence(stripped, advantage);
  return {
    built,
    guided: {
      stripped: built.sequence,
      ...(mode === "strip_with_is" ? { guided: buildTrainingSequence(t, advantage).sequence } : {}),
    },
    unstrippable: false,
  };
}
