import type { contracts } from "@sluice/common";

/**
 * One reward channel: reads a trajectory, returns a named, raw (unnormalised) value.
 * Later channels (G-RA gates, PRM per-turn scores, ONI annotations) implement the same
 * interface; the scorer composes whatever channels the spec enables.
 */
export interface ChannelScorer {
  readonly name: string;
  score(trajectory: contracts.Trajectory): contracts.RewardChannel;
}
