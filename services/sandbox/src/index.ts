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
