// Public API of @sluice/reward.
export { TrajectoryRejectedError, type RejectReason } from "./errors.js";
export type { ChannelScorer } from "./channels/channel.js";
export { outcomeChannel, OUTCOME_CHANNEL, OUTCOME_PRODUCER_VERSION, type OutcomeConfig } from "./channels/outcome.js";
export {
  scoreTrajectory,
  scoreBatch,
  buildChannels,
  isInfrastructureFailure,
  COMPOSITION_SUM,
  type RewardConfig,
  type BatchResult,
} from "./scorer.js";
export { startRewardPipeline, REWARD_DURABLE, type RewardPipelineOptions, type RunningPipeline } from "./pipeline.js";
export { rewardGrpcService, scoreBatchResponse } from "./reward-service.js";
export { RewardMetrics } from "./reward-metrics.js";
