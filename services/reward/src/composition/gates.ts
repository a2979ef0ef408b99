import type { ExperimentSpec } from "@sluice/common";

type RewardSpec = ExperimentSpec["reward"];

/** A resolved G-RA gate: channel, priority p_i and numeric threshold δ_i. */
export interface Gate {
  channel: string;
  priority: number;
  threshold: number;
}

/** The configured gates with level-name thresholds replaced by the level's configured outcome value. */
export function resolveGates(config: RewardSpec): Gate[] {
  return config.composition.gates.map((g) => ({
    channel: g.channel,
    priority: g.priority,
    threshold: typeof g.threshold === "number" ? g.threshold : config.outcome.levels[g.threshold],
  }));
}

/**
 * G-RA's general prioritised masks (Sun et al., arXiv 2508.10548):
 * `m_i = Π_{j: p_j > p_i} 1[R_j ≥ δ_j]`, compared on the channels' raw values. Channels
 * without a gate have priority 0 and never close (δ = −∞). Returns m_i by channel name.
 */
export function graMasks(values: ReadonlyMap<string, number>, gates: readonly Gate[]): Map<string, number> {
  const gateOf = new Map(gates.map((g) => [g.channel, g]));
  const priority = (name: string): number => gateOf.get(name)?.priority ?? 0;
  // 1[R_j ≥ δ_j] — the comparison is ≥ (G-RA)
  const open = (name: string): boolean => {
    const g = gateOf.get(name);
    return g === undefined || (values.get(name) ?? Number.NEGATIVE_INFINITY) >= g.threshold;
  };
  const masks = new Map<string, number>();
  for (const i of values.keys()) {
    let m = 1;
    // m_i = Π_{j: p_j > p_i} 1[R_j ≥ δ_j]
    for (const j of values.keys()) if (priority(j) > priority(i) && !open(j)) m = 0;
    masks.set(i, m);
  }
  return masks;
}
