// SWE task format: schema, typed errors, file loading (docs/swe-environments.md).
export { TaskFormatError, describeTaskLocation, type TaskIssue, type TaskLocation } from "./task-error.js";
export {
  npmTaskEnvSchema,
  taskEnvSchema,
  parseTask,
  taskToJson,
  STANDARD_TASK_KEYS,
  type NpmTaskEnv,
  type TaskEnv,
  type SweTask,
} from "./task-schema.js";
export {
  loadTaskFile,
  loadTaskSet,
  parseTaskText,
  type LoadedTask,
  type TaskLoadError,
  type TaskLoadResult,
} from "./task-loader.js";
