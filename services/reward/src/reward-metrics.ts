import { contracts, counter, gauge, histogram, type ServiceContext } from "@sluice/common";
import type { RejectReason } from "./errors.js";
import { isInfrastructureFailure } from "./scorer.js";
import { RewardWindow } from "./reward-window.js";

type Registry = ServiceContext["registry"];

/**
 * Prometheus metrics of the reward service. CR / MR / RR, per-channel means before and
 * after gating and gate-open rates are gauges over a sliding window of the last
 * `windowSize` scored episodes (infrastructure failures left out); the `*_total`
 * counters (episodes, submitted, modified, resolved, gate opens) allow rates over any range.
 */
export class RewardMetrics {
  private readonly window: RewardWindow;
  private readonly rates;
  private readonly channelWindowMean;
  private readonly gateOpenRate;
  private readonly episodesTotal;
  private readonly gateOpenTotal;
  private readonly scored;
  private readonly rejected;
  private readonly malformed;
  private readonly infraFailed;
  private readonly channelValue;
  private readonly channelMean;
  private readonly reward;
  private readonly latency;

  constructor(registry: Registry, windowSize = 256) {
    this.window = new RewardWindow(windowSize);
    this.rates = gauge(
      registry,
      "sluice_reward_outcome_rate",
      "G-RA rates over the last N scored episodes: completion (CR, submitted), modification (MR, modified and submitted), resolution (RR)",
      ["rate"],
    );
    this.channelWindowMean = gauge(
      registry,
      "sluice_reward_channel_window_mean",
      "mean channel value over the last N scored episodes, before (stage=raw) and after (stage=gated) gating",
      ["channel", "stage"],
    );
    this.gateOpenRate = gauge(
      registry,
      "sluice_reward_gate_open_rate",
      "share of the last N scored episodes in which the channel counted (gate open)",
      ["channel"],
    );
    this.episodesTotal = counter(
      registry,
      "sluice_reward_episodes_total",
      "scored episodes that are not infrastructure failures, by what they did (kind=all|submitted|modified|resolved)",
      ["kind"],
    );
    this.gateOpenTotal = counter(
      registry,
      "sluice_reward_gate_open_total",
      "episodes in which the channel's gate was open",
      ["channel"],
    );
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
    const episodes = batch.filter((s) => s.trajectory === undefined || !isInfrastructureFailure(s.trajectory));
    if (episodes.length === 0) return;
    for (const s of episodes) {
      this.window.add(s);
      const o = s.trajectory?.outcome;
      this.episodesTotal.inc({ kind: "all" });
      if (o?.submitted) this.episodesTotal.inc({ kind: "submitted" });
      if (o?.submitted && o.modified) this.episodesTotal.inc({ kind: "modified" });
      if (o?.level === contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED) this.episodesTotal.inc({ kind: "resolved" });
      for (const c of s.channels) if (c.gatePassed) this.gateOpenTotal.inc({ channel: c.name });
    }
    const w = this.window.stats();
    this.rates.set({ rate: "completion" }, w.completionRate);
    this.rates.set({ rate: "modification" }, w.modificationRate);
    this.rates.set({ rate: "resolution" }, w.resolutionRate);
    for (const [channel, c] of w.channels) {
      this.channelWindowMean.set({ channel, stage: "raw" }, c.meanRaw);
      this.channelWindowMean.set({ channel, stage: "gated" }, c.meanGated);
      this.gateOpenRate.set({ channel }, c.gateOpenRate);
    }
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
