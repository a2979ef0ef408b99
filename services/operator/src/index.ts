// Public surface of @sluice/operator.
export { startOperator, type OperatorHandle, type OperatorOptions } from "./operator.js";
export { DEFAULT_OPERATOR_CONFIG, operatorConfigFromEnv, type OperatorConfig } from "./config.js";
export { RestKubeApi } from "./kube/rest-client.js";
export type { KubeApi, KubeObject, ObjectRef, ResourceType } from "./kube/types.js";
export { NatsExperimentResources } from "./reconcile/streams.js";
export * from "./constants.js";
