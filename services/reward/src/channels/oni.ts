import type { contracts, OniConfig } from "@sluice/common";
import { stepAnnotationKey } from "../oni/annotation-key.js";
import { countBonus, EpisodeCounter } from "../oni/count-bonus.js";
import type { ChannelScorer } from "./channel.js";

export const ONI_CHANNEL = "oni";

/** What the ONI channel reads at scoring time: the label store's cache and version. */
export interface LabelLookup {
  get(key: string, fallback?: number): number;
  readonly version: number;
}

/** Annotation keys of a trajectory's turns, aligned with `t.turns`. */
export function turnAnnotationKeys(t: contracts.Trajectory, hexChars: number): string[] {
  return t.turns.map((turn) => stepAnnotationKey(turn, hexChars));
}

/**
 * Per-turn intrinsic values `r_int(m_t) · N_ep(m_t)^(−β)` (ONI, arXiv 2410.23022), with the
 * retrieval variant `r_int(m) = label_store.get(m, 0)`: late-bound, an unlabelled step is 0.
 * N_ep counts the key's occurrences in this episode so far, this one included.
 */
export function oniValues(keys_T: readonly string[], labels: Pick<LabelLookup, "get">, beta: number): number[] {
  const counter = new EpisodeCounter();
  return keys_T.map((key) => labels.get(key, 0) * countBonus(counter.observe(key), beta)); // r_int(m_t)·N_ep(m_t)^(−β)
}

/**
 * ONI intrinsic channel. Its weight is c_int, so the composed per-turn reward is
 * `r_t = c_ext · r_ext,t + c_int · r_int(m_t) · N_ep(m_t)^(−β)` (c_ext scales the other
 * channels' weights, see buildChannels). producer_version = `labels@<store version>`.
 */
export function oniChannel(config: OniConfig, labels: LabelLookup): ChannelScorer {
  return {
    name: ONI_CHANNEL,
    score(t) {
      const version = labels.version;
      const perTurn = oniValues(turnAnnotationKeys(t, config.keyHexChars), labels, config.beta);
      return {
        name: ONI_CHANNEL,
        value: perTurn.reduce((a, b) => a + b, 0),
        perTurn,
        producerVersion: `labels@${version}`,
        gatePassed: true,
        weight: config.cInt,
      };
    },
  };
}
