// Public surface of @sluice/common. A test pins this list (exports.test.ts).
export * from "./errors.js";
export * from "./deadline.js";
export * from "./logging.js";
export * from "./metrics.js";
export * from "./packing.js";
export * from "./seeded-random.js";
export * from "./paths.js";
export * from "./runtime-config.js";
export * from "./events.js";
export * from "./trajectory-codec.js";
export * from "./engine-client.js";
export * from "./reward-model-client.js";
export * from "./service-runner.js";
export * from "./spec/schema.js";
export * from "./spec/evaluation-schema.js";
export * from "./spec/load.js";
export * from "./spec/reference-model.js";
export * from "./engine-launch.js";
export {
  RL_EXPERIMENT_PHASES,
  rlExperimentSpecSchema,
  rlExperimentStatusSchema,
  type RLExperimentSpec,
  type RLExperimentStatus,
  type RLExperimentPhase,
  type ComponentSpec,
  type RunPolicy,
  type CleanupAction,
} from "./spec/kubernetes.js";
export * from "./tasks/index.js";
export * from "./swe-tools/index.js";
export * from "./http/read-body.js";
export * from "./grpc/server.js";
export * from "./grpc/client.js";
export * from "./nats/subjects.js";
export * from "./nats/connection.js";
export * from "./nats/streams.js";
export * from "./nats/publisher.js";
export * from "./nats/consumer.js";
export * from "./nats/consumer-pump.js";
export * from "./nats/label-snapshot.js";
export * as contracts from "./contracts.js";
export * from "./transcript.js";
export * from "./passed.js";
