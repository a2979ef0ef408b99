import type { SimResult } from "./simulation.js";

/** One row of the sweep: a result plus its throughput relative to η = 0 of the same mode. */
export interface SweepRow {
  eta: number;
  partialRollouts: boolean;
  result: SimResult;
  relativeToSync: number;
  /** The same configuration with the production admission budget (steps·B groups). */
  exactBudget: { steps: number; wedged: boolean };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function formatTable(rows: readonly SweepRow[]): string {
  const header = [
    "η",
    "partial",
    "steps/h",
    "×sync",
    "trainer idle",
    "rollout idle",
    "gen util",
    "held by upd",
    "drain s",
    "stale mean",
    "p95",
    "max",
    "token lag",
    "stale drop",
    "exact budget",
  ];
  const body = rows.map((r) => {
    const s = r.result;
    return [
      String(r.eta),
      r.partialRollouts ? "on" : "off",
      s.stepsPerHour.toFixed(2),
      `${r.relativeToSync.toFixed(2)}×`,
      pct(s.trainerIdleRatio),
      pct(s.rolloutIdleRatio),
      pct(s.generationUtilisation),
      pct(s.heldByUpdateRatio),
      s.meanDrainS.toFixed(1),
      s.stalenessMean.toFixed(2),
      String(s.stalenessP95),
      String(s.stalenessMax),
      s.tokenLagMean.toFixed(2),
      pct(s.staleFraction),
      r.exactBudget.wedged ? `wedged@${r.exactBudget.steps}` : "completes",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(header), ...body.map(line)].join("\n");
}

/** `η=4 on: 0:812 1:1400 …` — trained samples per staleness. */
export function formatHistograms(rows: readonly SweepRow[]): string {
  return rows
    .map(
      (r) =>
        `η=${r.eta} ${r.partialRollouts ? "on " : "off"}: ` +
        r.result.stalenessHistogram.map((n, lag) => `${lag}:${n}`).join(" "),
    )
    .join("\n");
}

/** The JSON of one row (what the last line carries). */
export function rowJson(r: SweepRow): Record<string, unknown> {
  const s = r.result;
  const round = (x: number, d = 4): number => Number(x.toFixed(d));
  return {
    eta: r.eta,
    partialRollouts: r.partialRollouts,
    steps: s.steps,
    makespanS: round(s.makespanS, 1),
    stepsPerHour: round(s.stepsPerHour, 3),
    relativeToSync: round(r.relativeToSync, 3),
    trainerIdleRatio: round(s.trainerIdleRatio),
    rolloutIdleRatio: round(s.rolloutIdleRatio),
    generationUtilisation: round(s.generationUtilisation),
    heldByUpdateRatio: round(s.heldByUpdateRatio),
    meanDrainS: round(s.meanDrainS, 2),
    trained: s.trained,
    dropped: s.dropped,
    staleFraction: round(s.staleFraction),
    groupsDroppedWhole: s.groupsDroppedWhole,
    stalenessHistogram: s.stalenessHistogram,
    stalenessMean: round(s.stalenessMean),
    stalenessP95: s.stalenessP95,
    stalenessMax: s.stalenessMax,
    tokenLagMean: round(s.tokenLagMean),
    mixedVersionTrajectories: s.mixedVersionTrajectories,
    exactBudget: r.exactBudget,
  };
}
