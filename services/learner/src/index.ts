// Public API of @sluice/learner.
export * from "./advantages.js";
export * from "./failures.js";
export * from "./sequence-builder.js";
export * from "./group-buffer.js";
export * from "./step-batch.js";
export * from "./loss-config.js";
export * from "./learner-status.js";
export * from "./learner-metrics.js";
export * from "./learner.js";
export * from "./learner-service.js";
