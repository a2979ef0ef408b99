import type { ScheduleConfig } from "./config.js";

/**
 * ONI's reward-model training schedule (Zheng et al., arXiv 2410.23022): while the
 * labelled set has fewer than `burstUntilLabels` (25,000) items, `burstSteps` (32)
 * gradient steps each time new labels arrive, none otherwise; afterwards
 * `steadySteps` (1) step per training iteration.
 */
export function rewardModelSteps(
  labelledCount: number,
  newLabelsArrived: boolean,
  config: Pick<ScheduleConfig, "burstUntilLabels" | "burstSteps" | "steadySteps">,
): number {
  if (labelledCount < config.burstUntilLabels) return newLabelsArrived ? config.burstSteps : 0; // |D| < 25k: 32 per arrival
  return config.steadySteps; // |D| ≥ 25k: 1 per iteration
}
