// Public API of @sluice/actor.
export * from "./chat-types.js";
export * from "./environment.js";
export * from "./errors.js";
export { EnvironmentRegistry, defaultEnvironmentRegistry } from "./environments/registry.js";
export { parseEnvironmentConfig } from "./environments/config.js";
export {
  DIGITS_ENVIRONMENT,
  DIGITS_SYSTEM_PROMPT,
  DigitsEnvironment,
  DigitsTaskSource,
  digitsConfigSchema,
  digitsEnvironment,
  parseDigitsConfig,
  scoreDigitAnswer,
  type DigitsConfig,
  type DigitsTaskPayload,
} from "./environments/digits.js";
export {
  SWE_ENVIRONMENT,
  SWE_SYSTEM_PROMPT,
  SweEnvironment,
  SweSandboxClient,
  SweTaskSource,
  firstUserMessage,
  instanceIdFromPrompt,
  loadSweTasks,
  parseSweConfig,
  resolveTaskPath,
  sweConfigSchema,
  sweEnvironment,
  sweToolSchemas,
  type SweConfig,
  type SweDoneReason,
  type SweEnvironmentOptions,
  type SweSandboxApi,
} from "./environments/swe/index.js";
export * from "./gateway-client.js";
export {
  runEpisode,
  trajectoryIdOf,
  type EpisodeDeps,
  type EpisodeSpec,
  type SamplingParams,
} from "./episode-runner.js";
export * from "./admission.js";
export { ADMISSION_KEY, KvAdmissionStore, type AdmissionResult } from "./admission-store.js";
export { readPolicy } from "./policy-reader.js";
export { Actor, type ActorOptions, type ActorSummary, type EventSink } from "./actor.js";
