import { counter, gauge, histogram, type ServiceContext, type contracts } from "@sluice/common";
import type { RejectReason } from "./errors.js";

type Registry = ServiceContext["registry"];

/** Prometheus metrics of the reward service. */
export class RewardMetrics {
  private readonly scored;
  private readonly rejected;
  private readonly malformed;
  private readonly infraFailed;
  private readonly channelValue;
  private readonly channelMean;
  private readonly reward;
  private readonly latency;

  constructor(registry: Registry) {
    this.scored = counter(registry, "sluice_reward_trajectories_scored_total", "trajectories scored");
    this.rejected = counter(registry, "sluice_reward_trajectories_rejected_total", "trajectories rejected, by reason", [
      "reason",
    ]);
    this.malformed = counter(registry, "sluice_reward_malformed_messages_total", "messages that are not trajectories");
    this.infraFailed = counter(
      registry,
      "sluice_reward_infra_failed_total",
      "infrastructure-failed trajectories passed through with reward 0",
      ["failure"],
    );
    const buckets = [-1, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 2];
    this.channelValue = histogram(registry, "sluice_reward_channel_value", "raw value per reward channel", buckets, [
      "channel",
    ]);
    this.channelMean = gauge(registry, "sluice_reward_channel_mean", "mean channel value over the last batch", [
      "channel",
    ]);
    this.reward = histogram(registry, "sluice_reward_reward", "composed episode reward", buckets);
    this.latency = histogram(
      registry,
      "sluice_reward_scoring_latency_seconds",
      "time to score one trajectory (decode to publish)",
      [0.0005, 0.002, 0.01, 0.05, 0.2, 1, 5],
    );
  }

  recordScored(batch: readonly contracts.ScoredTrajectory[]): void {
    const sums = new Map<string, { total: number; n: number }>();
    for (const s of batch) {
      this.scored.inc();
      this.reward.observe(s.reward);
      for (const c of s.channels) {
        if (!c.gatePassed) continue;
        this.channelValue.observe({ channel: c.name }, c.value);
        const acc = sums.get(c.name) ?? { total: 0, n: 0 };
        acc.total += c.value;
        acc.n += 1;
        sums.set(c.name, acc);
      }
    }
    for (const [channel, { total, n }] of sums) this.channelMean.set({ channel }, total / n);
  }

  recordInfraFailed(failure: string): void {
    this.infraFailed.inc({ failure });
  }

  recordRejected(reason: RejectReason): void {
    this.rejected.inc({ reason });
  }

  recordMalformed(): void {
    this.malformed.inc();
  }

  /** Starts a latency timer; call the result when the trajectory is done. */
  startTimer(): () => void {
    const end = this.latency.startTimer();
    return () => void end();
  }
}
