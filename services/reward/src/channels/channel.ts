import type { contracts } from "@sluice/common";

/**
 * One reward channel: reads a trajectory, returns a named, raw (unnormalised) value.
 * Later channels (G-RA gates, PRM per-turn scores, ONI annotations) implement the same
 * interface; the scorer composes whatever channels the spec enables.
 */
export interface ChannelScorer {
  readonly name: string;
  /**
   * A veto channel (rubric-style check) scores 1 when its check passes and 0 when it fails;
   * it adds nothing to the sum, and a failure zeroes the composed total.
   */
  readonly veto?: boolean;
  score(trajectory: contracts.Trajectory): contracts.RewardChannel;
}
