// Agent-RLVR guidance (Da et al., arXiv 2506.11425): guided re-attempts of failed episodes.
export * from "./types.js";
export * from "./errors.js";
export { environmentFeedbackText, EnvironmentFeedbackProvider } from "./environment-feedback.js";
export { TaskMetadataPlanHints, TeacherPlanHints, touchedLocations, type TeacherOptions } from "./plan-hints.js";
export { InteractionHints } from "./interaction-hints.js";
export { guidanceProviders } from "./providers.js";
export { insertionSpan, type TokenSpan } from "./token-span.js";
export {
  passed,
  runGuidedGroup,
  type AttemptRequest,
  type GuidancePolicy,
  type GuidedGroupInput,
  type GuidedGroupResult,
  type ReattemptSummary,
  type RunAttempt,
} from "./guided-group.js";
export { createGuidanceMetrics, type GuidanceMetrics, type GuidanceSnapshot } from "./guidance-metrics.js";
