import type { ExperimentSpec } from "@sluice/common";
import type { ChannelScorer } from "./channel.js";

export type OverlongConfig = ExperimentSpec["reward"]["overlong"];

export const OVERLONG_CHANNEL = "overlong";
export const OVERLONG_PRODUCER_VERSION = "dapo-overlong/v1";

/** Action tokens of a turn (int32 little-endian packed). */
export function actionTokens(turn: { actionTokenIds: Uint8Array }): number {
  return turn.actionTokenIds.length / 4;
}

/** DAPO soft overlong punishment of a response of `length` tokens (arXiv 2503.14476, eq. 13). */
export function overlongPenalty(length: number, maxLength: number, cacheLength: number): number {
  const softStart = maxLength - cacheLength;
  // R_length(y) = 0 if |y| ≤ L_max − L_c
  if (length <= softStart) return 0;
  // R_length(y) = ((L_max − L_c) − |y|) / L_c if L_max − L_c < |y| ≤ L_max
  if (length <= maxLength) return (softStart - length) / cacheLength;
  // R_length(y) = −1 if |y| > L_max
  return -1;
}

/**
 * DAPO overlong shaping as a channel. Scope episode: |y| = all action tokens, no per-turn
 * values. Scope turn: each turn's own length is punished; episode value = the sum.
 */
export function overlongChannel(config: OverlongConfig): ChannelScorer {
  return {
    name: OVERLONG_CHANNEL,
    score(t) {
      const lengths = t.turns.map(actionTokens);
      const perTurn =
        config.scope === "turn" ? lengths.map((n) => overlongPenalty(n, config.maxLength, config.cacheLength)) : [];
      const value =
        config.scope === "turn"
          ? perTurn.reduce((a, b) => a + b, 0)
          : overlongPenalty(
              lengths.reduce((a, b) => a + b, 0),
              config.maxLength,
              config.cacheLength,
            );
      return {
        name: OVERLONG_CHANNEL,
        value,
        perTurn,
        producerVersion: OVERLONG_PRODUCER_VERSION,
        gatePassed: true,
        weight: config.weight,
      };
    },
  };
}
