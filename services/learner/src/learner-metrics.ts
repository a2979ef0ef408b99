import { counter, gauge, histogram, type ServiceContext } from "@sluice/common";

type Registry = ServiceContext["registry"];
type Counter = ReturnType<typeof counter>;
type Gauge = ReturnType<typeof gauge>;
type Histogram = ReturnType<typeof histogram>;

/** Prometheus instruments of the learner, registered on the service registry. */
export interface LearnerMetrics {
  step: Gauge;
  policyVersion: Gauge;
  trained: Counter;
  dropped: Counter;
  stepDuration: Histogram;
  engineLatency: Histogram;
  idleRatio: Gauge;
  staleness: Histogram;
  loss: Gauge;
  klToReference: Gauge;
  rewardMean: Gauge;
  bufferDepth: Gauge;
  redelivered: Counter;
  refundedGroups: Gauge;
  tokenLag: Histogram;
  tokensPerSecond: Gauge;
  checkpointDuration: Histogram;
  lastCheckpointTime: Gauge;
}

export function createLearnerMetrics(registry: Registry): LearnerMetrics {
  return {
    step: gauge(registry, "sluice_learner_step", "learner steps completed"),
    policyVersion: gauge(registry, "sluice_learner_policy_version", "current policy version"),
    trained: counter(registry, "sluice_learner_trajectories_trained_total", "trajectories consumed by a step"),
    refundedGroups: gauge(
      registry,
      "sluice_learner_refunded_groups",
      "groups dropped whole (all members stale or failed) whose admission slots were given back",
    ),
    redelivered: counter(
      registry,
      "sluice_learner_redelivered_consumed_total",
      "redelivered messages already consumed before the last checkpoint (acked and skipped)",
    ),
    dropped: counter(registry, "sluice_learner_trajectories_dropped_total", "trajectories dropped, by reason", [
      "reason",
    ]),
    stepDuration: histogram(
      registry,
      "sluice_learner_step_duration_seconds",
      "wall time of one learner step (engine calls, checkpoint, publish, acks)",
      [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
    ),
    engineLatency: histogram(
      registry,
      "sluice_learner_engine_latency_seconds",
      "engine call latency by call",
      [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
      ["call"],
    ),
    idleRatio: gauge(registry, "sluice_learner_idle_ratio", "fraction of wall time spent waiting for data"),
    staleness: histogram(
      registry,
      "sluice_learner_staleness_versions",
      "current policy version minus the sample's oldest action version, at consumption",
      [0, 1, 2, 3, 4, 8, 16, 32],
    ),
    tokenLag: histogram(
      registry,
      "sluice_learner_token_version_lag",
      "per trained action token: current policy version minus the version that sampled it",
      [0, 1, 2, 3, 4, 8, 16, 32],
    ),
    tokensPerSecond: gauge(
      registry,
      "sluice_learner_tokens_per_second",
      "loss tokens trained per second in the last step",
    ),
    checkpointDuration: histogram(
      registry,
      "sluice_learner_checkpoint_duration_seconds",
      "wall time of one checkpoint (engine save, label snapshot, record)",
      [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    ),
    lastCheckpointTime: gauge(
      registry,
      "sluice_learner_last_checkpoint_timestamp_seconds",
      "unix time of the last checkpoint written",
    ),
    loss: gauge(registry, "sluice_learner_loss", "loss of the last step"),
    klToReference: gauge(
      registry,
      "sluice_learner_kl_to_reference",
      "token-mean k3 KL(π_θ ‖ π_ref) of the last step's last update (algorithm.klCoef > 0)",
    ),
    rewardMean: gauge(registry, "sluice_learner_reward_mean", "mean episode reward of the last step"),
    bufferDepth: gauge(registry, "sluice_learner_buffer_depth", "trajectories buffered waiting for their group"),
  };
}
