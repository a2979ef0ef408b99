import type { contracts } from "@sluice/common";
import type { EpisodeStats } from "./episode-stats.js";
import type { EvaluationReport } from "./evaluation-export.js";

export type RunExit = "completed" | "interrupted" | "failed";

/** `<runDir>/summary.json`. */
export interface RunSummary {
  experiment: string;
  steps: number;
  reward_mean_by_step: number[];
  /** Completion rate (CR, G-RA) per step: share of the step's trained episodes that submitted. */
  completion_rate_by_step: number[];
  trajectories_published: number;
  trajectories_trained: number;
  trajectories_dropped: Record<string, number>;
  final_policy_version: number;
  wall_seconds: number;
  exit: RunExit;
  error?: string;
  run_dir: string;
  /** How the published episodes ended; absent when the stream could not be read. */
  episodes?: EpisodeStats;
  /**
   * The reward service's counters and gauges (`sluice_reward_*`, `sluice_oni_*`; histogram
   * sums and counts, no buckets) scraped just before shutdown; absent when not reachable.
   */
  reward_metrics?: Record<string, number>;
  /** Restarts per component (spec.restart); absent when nothing was restarted. */
  component_restarts?: Record<string, number>;
  /** The final evaluation (spec.evaluation); absent when off. */
  evaluation?: EvaluationReport;
}

export interface SummaryInput {
  experiment: string;
  runDir: string;
  /** Last learner status seen; absent when the learner never answered. */
  status: contracts.GetStatusResponse | undefined;
  /** Messages in the trajectory stream (deduplicated by Nats-Msg-Id); absent if unknown. */
  trajectoriesPublished: number | undefined;
  /** Reward-side rejections counted from events, by reason. */
  rewardRejections: Readonly<Record<string, number>>;
  startedAtMs: number;
  endedAtMs: number;
  exit: RunExit;
  error?: string;
  episodes?: EpisodeStats;
  rewardMetrics?: Record<string, number>;
  componentRestarts?: Readonly<Record<string, number>>;
  evaluation?: EvaluationReport;
}

/** Merges the learner's dropped map with reward rejections (same reason: counts add). */
export function mergeDropped(
  learner: Readonly<Record<string, number>>,
  reward: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(learner)) out[k] = (out[k] ?? 0) + Number(v);
  for (const [k, v] of Object.entries(reward)) out[k] = (out[k] ?? 0) + Number(v);
  return out;
}

export function buildSummary(i: SummaryInput): RunSummary {
  const s = i.status;
  const summary: RunSummary = {
    experiment: i.experiment,
    steps: s ? Number(s.step) : 0,
    reward_mean_by_step: s ? [...s.rewardMeanByStep] : [],
    completion_rate_by_step: s ? [...s.completionRateByStep] : [],
    trajectories_published: i.trajectoriesPublished ?? 0,
    trajectories_trained: s ? Number(s.trajectoriesTrained) : 0,
    trajectories_dropped: mergeDropped(s?.trajectoriesDropped ?? {}, i.rewardRejections),
    final_policy_version: s ? s.policyVersion : 0,
    wall_seconds: Math.round((i.endedAtMs - i.startedAtMs) / 10) / 100,
    exit: i.exit,
    run_dir: i.runDir,
  };
  if (i.error !== undefined) summary.error = i.error;
  if (i.episodes !== undefined) summary.episodes = i.episodes;
  if (i.rewardMetrics !== undefined) summary.reward_metrics = i.rewardMetrics;
  if (i.componentRestarts !== undefined && Object.keys(i.componentRestarts).length > 0)
    summary.component_restarts = { ...i.componentRestarts };
  if (i.evaluation !== undefined) summary.evaluation = i.evaluation;
  return summary;
}

/** One line for the terminal. */
export function summaryLine(s: RunSummary): string {
  const last = s.reward_mean_by_step[s.reward_mean_by_step.length - 1];
  const dropped = Object.values(s.trajectories_dropped).reduce((a, b) => a + b, 0);
  const reward = last === undefined ? "-" : last.toFixed(3);
  const head = `${s.exit}: ${s.experiment} ${s.steps} steps in ${s.wall_seconds.toFixed(1)}s, final reward ${reward}, policy v${s.final_policy_version}`;
  const counts = `trajectories published ${s.trajectories_published} trained ${s.trajectories_trained} dropped ${dropped}`;
  return `${head}; ${counts}; ${s.run_dir}/summary.json${s.error ? ` (error: ${s.error})` : ""}`;
}
