// Public surface of @sluice/sandbox.
export type {
  SandboxBackend,
  SandboxLimitsSpec,
  CreateSandboxOptions,
  SandboxInfo,
  ExecOptions,
  ExecResult,
  ReadFileResult,
} from "./backend.js";
export { BubblewrapBackend, type BubblewrapBackendOptions } from "./bubblewrap-backend.js";
export type { SandboxDefaults } from "./limits.js";
export {
  createSandboxService,
  sandboxRegistration,
  SANDBOX_SERVICE_NAME,
  type SandboxServiceOptions,
} from "./sandbox-service.js";
export {
  SandboxStatusError,
  SandboxNotFoundError,
  SandboxFileNotFoundError,
  SandboxCapacityError,
  SandboxHostError,
} from "./errors.js";
export { Verifier, type VerifierOptions, type VerifyInput, type VerifyResult } from "./verifier.js";
export { SweHandlers, type SweServiceOptions } from "./swe-handlers.js";
export { defaultCacheDir } from "./environments/cache-dir.js";
export { materializeNpmEnv, npmEnvHash, type MaterializedEnv } from "./environments/npm-env.js";
export { prepareTaskWorkspace, type TaskWorkspace } from "./environments/task-workspace.js";
export { createTaskSandbox, type TaskSandbox, type TaskSandboxOptions } from "./environments/task-sandbox.js";
export { runTaskTests, type TestRun, type TestFileRun } from "./environments/test-runner.js";
export { envSandboxOptions, SANDBOX_NODE_MODULES } from "./environments/sandbox-mounts.js";
export { EnvironmentBuildError } from "./environments/host-command.js";
export {
  startSwerexServer,
  SwerexException,
  SwerexHttpError,
  type SwerexServer,
  type SwerexServerOptions,
} from "./swerex/index.js";
export { startSwerexWiring, type SwerexWiringOptions } from "./swerex-wiring.js";
