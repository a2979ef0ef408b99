import { packInt32, unpackInt32, type contracts, type GuidanceConfig } from "@sluice/common";

/** What the learner trains a guided re-attempt on (spec.guidance.context). */
export type GuidedContextMode = GuidanceConfig["context"];

/** A trajectory shown guidance (Agent-RLVR re-attempt). */
export function isGuided(t: contracts.Trajectory): boolean {
  return t.guidance.length > 0;
}

/**
 * The trajectory with every guidance span removed from the observation tokens of the turn it
 * was injected at; undefined when a record's span is unknown (token_end ≤ token_start) or
 * does not fit the turn, so the caller keeps the guided context. Records of one round share
 * one span: each distinct (turn, start, end) is removed once, the later spans first so the
 * earlier offsets stay valid.
 */
export function stripGuidance(t: contracts.Trajectory): contracts.Trajectory | undefined {
  if (!isGuided(t)) return t;
  const spans = new Map<string, { turn: number; start: number; end: number }>();
  for (const g of t.guidance) {
    if (g.tokenEnd <= g.tokenStart || g.tokenStart < 0) return undefined;
    spans.set(`${g.injectedAtTurn}:${g.tokenStart}:${g.tokenEnd}`, {
      turn: g.injectedAtTurn,
      start: g.tokenStart,
      end: g.tokenEnd,
    });
  }
  const obsByTurn = new Map<number, number[]>();
  const ordered = [...spans.values()].sort((a, b) => a.turn - b.turn || b.start - a.start);
  for (const s of ordered) {
    const turn = t.turns[s.turn];
    if (!turn) return undefined;
    const ids = obsByTurn.get(s.turn) ?? [...unpackInt32(turn.observationTokenIds)];
    if (s.end > ids.length) return undefined;
    ids.splice(s.start, s.end - s.start);
    obsByTurn.set(s.turn, ids);
  }
  return {
    ...t,
    turns: t.turns.map((turn, i) => {
      const ids = obsByTurn.get(i);
      return ids ? { ...turn, observationTokenIds: packInt32(ids) } : turn;
    }),
  };
}
