import type { SandboxLimitsSpec } from "./backend.js";

/** Where the workspace appears inside every sandbox. */
export const SANDBOX_WORKSPACE = "/workspace";
/** uid/gid the command sees inside its user namespace: deliberately not root. */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: SANDBOX_WORKSPACE,
  LANG: "C.UTF-8",
  TMPDIR: "/tmp",
};

/** How the host's root filesystem is laid out, so merged-/usr systems get symlinks. */
export interface SystemLayout {
  /** Top-level entries such as /bin, /lib: a symlink target ("usr/bin") or "dir". */
  entries: ReadonlyArray<{ path: string; kind: "symlink"; target: string } | { path: string; kind: "dir" }>;
}

export interface BwrapCommand {
  workspaceHostPath: string;
  /** Workspace-relative working directory ("" for the root). */
  workdir: string;
  env: Readonly<Record<string, string>>;
  /** rlimits to apply through prlimit; undefined when prlimit is unavailable. */
  limits: SandboxLimitsSpec | undefined;
  prlimitPath: string;
  argv: readonly string[];
}

/**
 * Builds the bwrap argument list (without the bwrap binary itself). Every namespace is
 * unshared, so the command has no network (only its own loopback), its own pid space (all
 * its processes die with it), a read-only view of the system and write access only to
 * the workspace and a private /tmp.
 */
export function bwrapArgs(layout: SystemLayout, cmd: BwrapCommand): string[] {
  const args = ["--unshare-all", "--die-with-parent", "--new-session"];
  args.push("--ro-bind", "/usr", "/usr");
  for (const e of layout.entries) {
    if (e.kind === "symlink") args.push("--symlink", e.target, e.path);
    else args.push("--ro-bind", e.path, e.path);
  }
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  args.push("--bind", cmd.workspaceHostPath, SANDBOX_WORKSPACE);
  args.push("--chdir", cmd.workdir ? `${SANDBOX_WORKSPACE}/${cmd.workdir}` : SANDBOX_WORKSPACE);
  args.push("--clearenv");
  for (const [k, v] of Object.entries({ ...BASE_ENV, ...cmd.env })) args.push("--setenv", k, v);
  args.push("--uid", String(SANDBOX_UID), "--gid", String(SANDBOX_GID));
  args.push("--");
  if (cmd.limits) args.push(cmd.prlimitPath, ...prlimitArgs(cmd.limits), "--");
  args.push(...cmd.argv);
  return args;
}

/** Soft and hard limits alike, so the command cannot raise them back. */
export function prlimitArgs(l: SandboxLimitsSpec): string[] {
  return [
    `--as=${l.memoryBytes}`,
    `--nproc=${l.maxProcesses}`,
    `--fsize=${l.maxFileBytes}`,
    `--nofile=${l.maxOpenFiles}`,
    `--cpu=${l.cpuSeconds}`,
    "--core=0",
  ];
}

/** The `enforced` labels rlimits give, in the order of prlimitArgs. */
export const RLIMIT_LABELS = ["rlimit:as", "rlimit:nproc", "rlimit:fsize", "rlimit:nofile", "rlimit:cpu"] as const;

/** Environment variable names bwrap --setenv accepts and a shell can use. */
export function isValidEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
