/**
 * The exec server's HTTP API: what the sandbox service sends into a sandbox pod. JSON bodies,
 * bytes as base64; every request carries `Authorization: Bearer <token>` (the pod's own token).
 */
export const EXEC_PORT = 7070;

export const EXEC_PATHS = {
  health: "/healthz",
  exec: "/exec",
  files: "/files",
  workspace: "/workspace",
  reset: "/reset",
} as const;

export interface ExecRequest {
  argv: string[];
  timeoutMs: number;
  stdinB64: string;
  maxOutputBytes: number;
  /** Relative to the workspace. */
  workdir: string;
  env: Record<string, string>;
}

export interface ExecResponse {
  exitCode: number;
  signal: string;
  stdoutB64: string;
  stderrB64: string;
  timedOut: boolean;
  outputTruncated: boolean;
  durationMs: number;
}

/** A workspace upload: the files of the episode's starting state. */
export interface WorkspaceArchive {
  files: { path: string; mode: number; contentB64: string }[];
  symlinks: { path: string; target: string }[];
}
