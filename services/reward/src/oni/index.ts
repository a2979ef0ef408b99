// ONI (Zheng et al., arXiv 2410.23022): asynchronous LLM annotation and intrinsic rewards.
export * from "./config.js";
export * from "./errors.js";
export * from "./count-bonus.js";
export * from "./answer-parser.js";
export * from "./ranking-loss.js";
export * from "./classification.js";
export * from "./schedule.js";
export * from "./normalise.js";
export * from "./annotation-key.js";
export * from "./backlog.js";
export * from "./judge-client.js";
export * from "./annotator-metrics.js";
export * from "./annotator.js";
export * from "./label-store.js";
