import type { contracts } from "@sluice/common";
import { graMasks, type Gate } from "./gates.js";

export type CompositionKind = "sum" | "dra" | "gra";

export interface ComposeInput {
  kind: CompositionKind;
  gates: readonly Gate[];
  /** Names of veto channels: value < 1 zeroes the total. */
  vetoes: ReadonlySet<string>;
  turns: number;
}

export interface Composed {
  channels: contracts.RewardChannel[];
  reward: number;
  perTurnReward: number[];
}

/**
 * Composes raw channel values into the episode reward and per-turn rewards.
 * sum / dra (direct accumulation): `R = r_high + Σ_t r_low,t`, i.e. `R = Σ_i w_i · R_i`.
 * gra: `R = Σ_i m_i · w_i · R_i` with G-RA's masks; a gated channel's per-turn values count
 * only when its mask is 1 (arXiv 2508.10548). A failed veto channel zeroes the total.
 * When any channel scores turns, per-turn rewards sum to R (episode-level channels are
 * credited to the last turn).
 * `gate_passed` on each returned channel says whether it counted.
 */
export function compose(values: readonly contracts.RewardChannel[], input: ComposeInput): Composed {
  const vetoed = values.some((c) => input.vetoes.has(c.name) && c.value < 1);
  const masks =
    input.kind === "gra"
      ? graMasks(new Map(values.filter((c) => !input.vetoes.has(c.name)).map((c) => [c.name, c.value])), input.gates)
      : undefined;
  // Per-turn rewards exist only when some channel scores turns; otherwise the field stays
  // empty so the learner can tell "no per-turn signal" from "all turns scored 0".
  const perTurnReward = values.some((v) => v.perTurn.length > 0) ? Array.from({ length: input.turns }, () => 0) : [];
  let reward = 0;
  const channels = values.map((ch) => {
    if (input.vetoes.has(ch.name)) return ch;
    const m = ch.gatePassed && !vetoed ? (masks?.get(ch.name) ?? 1) : 0;
    const weight = m * ch.weight;
    // R = Σ_i m_i · w_i · R_i (G-RA; m_i = 1 for D-RA)
    reward += weight * ch.value;
    ch.perTurn.forEach((v, t) => {
      // r̃_t = Σ_i m_i · w_i · r_i,t (G-RA: r̃_t = r_low,t · 1[r_high ≥ δ])
      if (t < perTurnReward.length) perTurnReward[t] = (perTurnReward[t] ?? 0) + weight * v;
    });
    // An episode-level channel (the outcome, a judge's verdict) is earned at the end: it
    // lands on the last turn, so Σ_t r̃_t = R and turn-level credit still sees it.
    const last = perTurnReward.length - 1;
    if (ch.perTurn.length === 0 && last >= 0) perTurnReward[last] = (perTurnReward[last] ?? 0) + weight * ch.value;
    return { ...ch, gatePassed: m === 1 };
  });
  // A failed veto zeroes the episode and every turn.
  return { channels, reward: vetoed ? 0 : reward, perTurnReward: vetoed ? perTurnReward.map(() => 0) : perTurnReward };
}

/** Name and parameters of a composition, e.g. `sum`, `dra`, `gra(outcome≥0;steps)+veto(patch_too_large)`. */
export function describeComposition(
  kind: CompositionKind,
  gates: readonly Gate[],
  channelNames: readonly string[],
  vetoes: ReadonlySet<string>,
  pure: { channels: readonly string[]; temperature: number },
): string {
  let out: string = kind;
  if (kind === "gra") {
    const gateOf = new Map(gates.map((g) => [g.channel, g]));
    const parts = channelNames
      .filter((n) => !vetoes.has(n))
      .map((n) => ({ n, g: gateOf.get(n) }))
      .sort((a, b) => (b.g?.priority ?? 0) - (a.g?.priority ?? 0))
      .map(({ n, g }) => (g ? `${n}≥${g.threshold}` : n));
    out = `gra(${parts.join(";")})`;
  }
  if (pure.channels.length > 0) out += `+pure(${pure.channels.join(",")};T=${pure.temperature})`;
  if (vetoes.size > 0) out += `+veto(${[...vetoes].join(",")})`;
  return out;
}
