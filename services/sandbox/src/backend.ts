/**
 * The backend contract every sandbox implementation satisfies. The gRPC service only talks
 * to this interface, so a Kubernetes pod backend can replace the local bubblewrap one
 * without touching the service, its metrics or its callers.
 */

/** Resource limits for one sandbox. Zero or absent fields mean "backend default". */
export interface SandboxLimitsSpec {
  memoryBytes: number;
  maxProcesses: number;
  maxFileBytes: number;
  maxOpenFiles: number;
  cpuSeconds: number;
}

export interface CreateSandboxOptions {
  /** Host directory copied into the workspace; empty string for an empty workspace. */
  workspaceSource: string;
  /** Requested limits; each is clamped to the backend's configured maximum. */
  limits?: Partial<SandboxLimitsSpec>;
  /** Only for logs and ids; the backend does not interpret it. */
  episodeId: string;
  /** Extra environment for every command in this sandbox. */
  env: Readonly<Record<string, string>>;
  /**
   * Host paths made visible read-only inside the sandbox, e.g. a cached node_modules at
   * /node_modules. `sandboxPath` is absolute and may not shadow the system, /tmp or the
   * workspace; `hostPath` must exist.
   */
  mounts?: ReadonlyArray<SandboxMount>;
  /** Absolute sandbox directories put in front of PATH, in this order. */
  pathPrepend?: readonly string[];
}

/** A read-only bind mount into a sandbox. */
export interface SandboxMount {
  hostPath: string;
  sandboxPath: string;
}

export interface SandboxInfo {
  sandboxId: string;
  /** Where the workspace lives on the backend's host (for debugging, not for I/O). */
  workspacePath: string;
  /**
   * What this backend enforces on this host, e.g. "net:none", "seccomp", "cgroup:memory",
   * "rlimit:nproc". A label missing here is not enforced.
   */
  enforced: readonly string[];
}

export interface ExecOptions {
  argv: readonly string[];
  /** 0 means the backend default. */
  timeoutMs: number;
  stdin: Uint8Array;
  /** Per stream; 0 means the backend default. */
  maxOutputBytes: number;
  /** Relative to the workspace; empty for the workspace root. */
  workdir: string;
}

export interface ExecResult {
  /** -1 when the process was killed by a signal (see `signal`). */
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  timedOut: boolean;
  outputTruncated: boolean;
  durationMs: number;
  /** Signal name when the process was killed by one, else "". */
  signal: string;
}

export interface ReadFileResult {
  content: Uint8Array;
  truncated: boolean;
}

export interface SandboxBackend {
  /** Short name for logs and metrics, e.g. "bubblewrap". */
  readonly kind: string;
  create(options: CreateSandboxOptions): Promise<SandboxInfo>;
  exec(sandboxId: string, options: ExecOptions): Promise<ExecResult>;
  /** `path` is relative to the workspace; parents are created. */
  writeFile(sandboxId: string, path: string, content: Uint8Array): Promise<void>;
  /** Reads at most `maxBytes` (0 = backend default). */
  readFile(sandboxId: string, path: string, maxBytes: number): Promise<ReadFileResult>;
  /** Kills running commands and removes the workspace. Unknown ids are an error. */
  destroy(sandboxId: string): Promise<void>;
  /** Number of sandboxes currently alive. */
  liveCount(): number;
  /** What is enforced on this host (same list every CreateSandbox reports). */
  capabilities(): readonly string[];
  /** Destroys every sandbox; used on service stop. */
  close(): Promise<void>;
}
