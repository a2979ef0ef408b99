import { ValidationError } from "@sluice/common";

/** Why a trajectory could not be scored; also the `reason` label of the rejected counter. */
export type RejectReason = "missing_outcome" | "unspecified_level" | "inconsistent";

/** A trajectory the reward service refuses to score. Never retryable. */
export class TrajectoryRejectedError extends ValidationError {
  readonly reason: RejectReason;
  readonly trajectoryId: string;
  constructor(trajectoryId: string, reason: RejectReason, detail: string, options: { cause?: unknown } = {}) {
    super(`trajectory ${trajectoryId || "(no id)"} rejected (${reason}): ${detail}`, options);
    this.name = "TrajectoryRejectedError";
    this.reason = reason;
    this.trajectoryId = trajectoryId;
  }
}

/** A reward config the service cannot run (e.g. a gate on a channel that is not enabled). */
export class RewardConfigError extends ValidationError {
  constructor(message: string) {
    super(`reward config: ${message}`);
    this.name = "RewardConfigError";
  }
}

/** A reward config value the service recognises but cannot run yet. */
export class UnsupportedConfigError extends ValidationError {
  constructor(message: string) {
    super(`reward config unsupported: ${message}`);
    this.name = "UnsupportedConfigError";
  }
}
