import { ETAS, type SimConfig } from "./config.js";
import type { SweepRow } from "./report.js";
import { simulate } from "./simulation.js";

/**
 * η ∈ `etas` × partial rollouts {on, off} on one base configuration (same seed, so the
 * same task durations everywhere). Each configuration also runs once with the production
 * admission budget to see whether the run can finish.
 */
export function sweep(base: SimConfig, etas: readonly number[] = ETAS): SweepRow[] {
  const rows: SweepRow[] = [];
  for (const partialRollouts of [true, false]) {
    let syncStepsPerHour: number | undefined;
    for (const eta of etas) {
      const config: SimConfig = { ...base, maxStaleness: eta, partialRollouts, admissionBudget: "open" };
      const result = simulate(config);
      const exact = simulate({ ...config, admissionBudget: "exact" });
      if (eta === 0) syncStepsPerHour = result.stepsPerHour;
      rows.push({
        eta,
        partialRollouts,
        result,
        relativeToSync: syncStepsPerHour ? result.stepsPerHour / syncStepsPerHour : Number.NaN,
        exactBudget: { steps: exact.steps, wedged: exact.wedged },
      });
    }
  }
  return rows;
}
