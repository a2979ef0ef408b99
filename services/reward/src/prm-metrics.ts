import { counter, type ServiceContext } from "@sluice/common";
import type { PrmScores } from "./channels/prm.js";

/** Prometheus metrics of the generative PRM channel. */
export class PrmMetrics {
  readonly requests;
  private readonly failedSteps;
  private readonly unparsedSteps;
  private readonly judgeFailures;

  constructor(registry: ServiceContext["registry"]) {
    this.requests = counter(registry, "sluice_reward_prm_requests_total", "PRM judge HTTP requests, by outcome", [
      "outcome",
    ]);
    this.failedSteps = counter(
      registry,
      "sluice_reward_prm_failed_steps_total",
      "steps whose PRM judge request failed or missed the deadline (default score)",
    );
    this.unparsedSteps = counter(
      registry,
      "sluice_reward_prm_unparsed_steps_total",
      "PRM answers without a score in range (default score)",
    );
    this.judgeFailures = counter(
      registry,
      "sluice_reward_prm_judge_failures_total",
      "trajectories whose PRM channel fell back to defaults because the judge failed",
    );
  }

  record(scores: PrmScores): void {
    this.failedSteps.inc(scores.failed);
    this.unparsedSteps.inc(scores.unparsed);
    if (scores.failed > 0) this.judgeFailures.inc();
  }
}
