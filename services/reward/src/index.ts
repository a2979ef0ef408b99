// Public API of @sluice/reward.
export { TrajectoryRejectedError, RewardConfigError, type RejectReason } from "./errors.js";
export type { ChannelScorer } from "./channels/channel.js";
export { outcomeChannel, OUTCOME_CHANNEL, OUTCOME_PRODUCER_VERSION, type OutcomeConfig } from "./channels/outcome.js";
export {
  scoreTrajectory,
  scoreBatch,
  buildChannels,
  compositionName,
  isInfrastructureFailure,
  COMPOSITION_SUM,
  type RewardConfig,
  type BatchResult,
} from "./scorer.js";
export { startRewardPipeline, REWARD_DURABLE, type RewardPipelineOptions, type RunningPipeline } from "./pipeline.js";
export { rewardGrpcService, scoreBatchResponse } from "./reward-service.js";
export { RewardMetrics } from "./reward-metrics.js";
export {
  stepCriticsChannel,
  stepCriticValues,
  STEPS_CHANNEL,
  type StepCriticsConfig,
} from "./channels/step-critics.js";
export { overlongChannel, overlongPenalty, OVERLONG_CHANNEL, type OverlongConfig } from "./channels/overlong.js";
export { vetoChannels, PATCH_TOO_LARGE, INVALID_TOOL_CALLS, TESTS_MODIFIED, type VetoConfig } from "./channels/veto.js";
export { compose, describeComposition, type Composed, type CompositionKind } from "./composition/compose.js";
export { graMasks, resolveGates, type Gate } from "./composition/gates.js";
export { pureTransform } from "./composition/pure.js";
export { RewardWindow, type WindowStats, type ChannelWindowStats } from "./reward-window.js";
export { UnsupportedConfigError } from "./errors.js";
export { type ChannelDeps } from "./scorer.js";
export { oniChannel, oniValues, turnAnnotationKeys, ONI_CHANNEL, type LabelLookup } from "./channels/oni.js";
export {
  prmChannel,
  prmChannelValue,
  prmPrompt,
  createPrmParser,
  prmScoresFromAnswers,
  PrmJudge,
  PRM_CHANNEL,
  type PrmScores,
} from "./channels/prm.js";
export { judgedChannels } from "./judged-channels.js";
export { PrmMetrics } from "./prm-metrics.js";
export { startOniService, type OniService, type OniServiceOptions } from "./oni/service.js";
export {
  decodeAnnotationRequest,
  decodeAnnotationResult,
  type AnnotationRequest,
  type AnnotationResult,
} from "./oni/annotation-messages.js";
export { scoreBatchResponseJudged, type RewardServiceDeps } from "./reward-service.js";
