import { counter, gauge, type ServiceContext } from "@sluice/common";

/** Prometheus metrics of ONI's engine-hosted reward model and the intrinsic reward it gives. */
export class RewardModelMetrics {
  readonly loss;
  readonly accuracy;
  readonly steps;
  readonly version;
  readonly trainFailures;
  readonly scoreFailures;
  readonly trainableExamples;
  private readonly intrinsicMean;
  private readonly window: number[] = [];

  constructor(
    registry: ServiceContext["registry"],
    private readonly windowSize = 256,
  ) {
    this.loss = gauge(registry, "sluice_oni_reward_model_loss", "reward-model loss of the last training batch");
    this.accuracy = gauge(
      registry,
      "sluice_oni_reward_model_accuracy",
      "reward-model accuracy on the last training batch, before its step",
    );
    this.steps = counter(registry, "sluice_oni_reward_model_train_steps_total", "reward-model gradient steps");
    this.version = gauge(registry, "sluice_oni_reward_model_version", "version of the reward model last used");
    this.trainFailures = counter(
      registry,
      "sluice_oni_reward_model_train_failures_total",
      "training steps that failed (engine unreachable, deadline, rejected batch)",
    );
    this.scoreFailures = counter(
      registry,
      "sluice_oni_reward_model_score_failures_total",
      "trajectories whose intrinsic channel fell back to 0 because scoring failed",
    );
    this.trainableExamples = gauge(
      registry,
      "sluice_oni_reward_model_trainable_examples",
      "labels whose text is known (what the reward model trains on)",
    );
    this.intrinsicMean = gauge(
      registry,
      "sluice_oni_intrinsic_reward_mean",
      "mean per-step intrinsic reward r_int·N^(−β) over the last N scored trajectories",
    );
  }

  /** Records one trajectory's per-step intrinsic values. */
  recordIntrinsic(perTurn: readonly number[]): void {
    if (perTurn.length === 0) return;
    this.window.push(perTurn.reduce((a, b) => a + b, 0) / perTurn.length);
    if (this.window.length > this.windowSize) this.window.shift();
    this.intrinsicMean.set(this.window.reduce((a, b) => a + b, 0) / this.window.length);
  }
}
