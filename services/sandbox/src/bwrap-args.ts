import { posix } from "node:path";
import { ValidationError } from "@sluice/common";
import type { SandboxLimitsSpec, SandboxMount } from "./backend.js";

/** Where the workspace appears inside every sandbox. */
export const SANDBOX_WORKSPACE = "/workspace";
/** uid/gid the command sees inside its user namespace: deliberately not root. */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

const BASE_PATH = "/usr/local/bin:/usr/bin:/bin";
const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: BASE_PATH,
  HOME: SANDBOX_WORKSPACE,
  LANG: "C.UTF-8",
  TMPDIR: "/tmp",
};

/** How the host's root filesystem is laid out, so merged-/usr systems get symlinks. */
export interface SystemLayout {
  /** Top-level entries such as /bin, /lib: a symlink target ("usr/bin") or "dir". */
  entries: ReadonlyArray<{ path: string; kind: "symlink"; target: string } | { path: string; kind: "dir" }>;
}

/** Optional bwrap flags, detected from `bwrap --help` (older versions lack them). */
export interface BwrapFeatures {
  /** `--size` for tmpfs (bwrap 0.5+). */
  tmpfsSize: boolean;
  /** `--disable-userns` (bwrap 0.8+). */
  disableUserns: boolean;
}

export interface BwrapCommand {
  workspaceHostPath: string;
  /** Workspace-relative working directory ("" for the root). */
  workdir: string;
  env: Readonly<Record<string, string>>;
  /** rlimits to apply through prlimit; undefined when prlimit is unavailable. */
  limits: SandboxLimitsSpec | undefined;
  /** Whether memoryBytes becomes RLIMIT_AS (false when a memory cgroup bounds memory). */
  addressSpaceLimit: boolean;
  prlimitPath: string;
  argv: readonly string[];
  features: BwrapFeatures;
  /** Validated read-only binds (see validateMounts). */
  mounts: readonly SandboxMount[];
  /** Validated directories to put in front of PATH. */
  pathPrepend: readonly string[];
  /** An fd of the bwrap process holding a seccomp program; undefined for none. */
  seccompFd: number | undefined;
  /** Size cap of the private /tmp (tmpfs pages are memory); 0 for none. */
  tmpBytes: number;
}

/**
 * Builds the bwrap argument list (without the bwrap binary itself). Every namespace is
 * unshared, so the command has no network (only its own loopback), its own pid space (all
 * its processes die with it), a read-only view of the system, a read-only root, and write
 * access only to the workspace and a private /tmp.
 */
export function bwrapArgs(layout: SystemLayout, cmd: BwrapCommand): string[] {
  const args = ["--unshare-all", "--die-with-parent", "--new-session"];
  // Nested user namespaces are how unprivileged users reach mount & co; seccomp denies
  // unshare/clone too, this also covers a host where seccomp is unavailable.
  if (cmd.features.disableUserns) args.push("--unshare-user", "--disable-userns");
  args.push("--ro-bind", "/usr", "/usr");
  for (const e of layout.entries) {
    if (e.kind === "symlink") args.push("--symlink", e.target, e.path);
    else args.push("--ro-bind", e.path, e.path);
  }
  args.push("--proc", "/proc", "--dev", "/dev");
  if (cmd.features.tmpfsSize && cmd.tmpBytes > 0) args.push("--size", String(cmd.tmpBytes));
  args.push("--tmpfs", "/tmp");
  args.push("--bind", cmd.workspaceHostPath, SANDBOX_WORKSPACE);
  for (const m of cmd.mounts) args.push("--ro-bind", m.hostPath, m.sandboxPath);
  // The root itself is bwrap's tmpfs; read-only so writes outside the workspace and /tmp
  // fail loudly (EROFS) instead of silently using memory.
  args.push("--remount-ro", "/");
  args.push("--chdir", cmd.workdir ? `${SANDBOX_WORKSPACE}/${cmd.workdir}` : SANDBOX_WORKSPACE);
  if (cmd.seccompFd !== undefined) args.push("--seccomp", String(cmd.seccompFd));
  args.push("--clearenv");
  const env = { ...BASE_ENV, ...cmd.env };
  if (cmd.pathPrepend.length > 0) env.PATH = [...cmd.pathPrepend, env.PATH].join(":");
  for (const [k, v] of Object.entries(env)) args.push("--setenv", k, v);
  args.push("--uid", String(SANDBOX_UID), "--gid", String(SANDBOX_GID));
  args.push("--");
  if (cmd.limits) args.push(cmd.prlimitPath, ...prlimitArgs(cmd.limits, cmd.addressSpaceLimit), "--");
  args.push(...cmd.argv);
  return args;
}

/** Soft and hard limits alike, so the command cannot raise them back. */
export function prlimitArgs(l: SandboxLimitsSpec, addressSpace = true): string[] {
  return [
    ...(addressSpace ? [`--as=${l.memoryBytes}`] : []),
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

/** Exit status and stderr prefix of the launcher when it cannot join the cgroup. */
export const LAUNCH_FAILED_EXIT = 125;
export const LAUNCH_FAILED_MARKER = "sluice-launch:";

// Joins every cgroup given (count first, then the files), then runs the rest. Writing $$
// before exec is what makes it race-free: bwrap and all it starts are born inside.
const LAUNCH_SCRIPT = [
  'n=$1; shift; while [ "$n" -gt 0 ]; do',
  `  echo $$ > "$1" || { echo "${LAUNCH_FAILED_MARKER} cannot join cgroup $1" >&2; exit ${LAUNCH_FAILED_EXIT}; }`,
  "  shift; n=$((n - 1));",
  'done; exec "$@"',
].join("\n");

export interface LaunchPlan {
  bwrapPath: string;
  bwrapArgs: readonly string[];
  /** cgroup.procs files to join first; empty for none. */
  procsFiles: readonly string[];
  /** Host credentials bwrap must run under; undefined = ours. */
  runAs: { uid: number; gid: number } | undefined;
  /** setpriv, used when we join cgroups as root and then drop to `runAs`; "" if missing. */
  setprivPath: string;
}

/**
 * What to spawn for one sandboxed command: bwrap itself, or a tiny shell that first moves
 * itself into the sandbox's cgroups. Under cgroup v2 moving a process needs write access
 * to the common ancestor's cgroup.procs, which only we (root) have, so the shell runs as
 * us and drops to `runAs` with setpriv right before bwrap. Without setpriv it runs as
 * `runAs` directly, which works under v1 when the procs files are chowned to it.
 */
export function launchCommand(plan: LaunchPlan): { file: string; args: string[]; uid?: number; gid?: number } {
  if (plan.procsFiles.length === 0) return { file: plan.bwrapPath, args: [...plan.bwrapArgs], ...(plan.runAs ?? {}) };
  const head = ["-c", LAUNCH_SCRIPT, "sluice-launch", String(plan.procsFiles.length), ...plan.procsFiles];
  if (plan.runAs && plan.setprivPath) {
    const drop = [plan.setprivPath, `--reuid=${plan.runAs.uid}`, `--regid=${plan.runAs.gid}`, "--clear-groups", "--"];
    return { file: "/bin/sh", args: [...head, ...drop, plan.bwrapPath, ...plan.bwrapArgs] };
  }
  return { file: "/bin/sh", args: [...head, plan.bwrapPath, ...plan.bwrapArgs], ...(plan.runAs ?? {}) };
}

/**
 * Sandbox paths a mount may not cover: the root, what the system binds provide, the
 * kernel filesystems, /tmp and the workspace. Anything else (/node_modules, /opt/x) is
 * fresh directory on bwrap's own root.
 */
const RESERVED_SANDBOX_PATHS = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/proc",
  "/dev",
  "/sys",
  "/tmp",
  "/run",
  SANDBOX_WORKSPACE,
];

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** An absolute, normalised path without "..": what a sandbox path must look like. */
function checkAbsolute(path: string, what: string): void {
  if (
    !path.startsWith("/") ||
    path.includes("\0") ||
    path.includes("\n") ||
    path.split("/").includes("..") ||
    posix.normalize(path) !== path ||
    (path.length > 1 && path.endsWith("/"))
  ) {
    throw new ValidationError(`${what} must be an absolute normalised path without "..": ${JSON.stringify(path)}`);
  }
}

/**
 * Checks mount requests (host paths still have to exist; the backend checks that) and
 * orders them parents first, so a mount inside another mount is not hidden by it.
 */
export function validateMounts(mounts: readonly SandboxMount[]): SandboxMount[] {
  const seen = new Set<string>();
  for (const m of mounts) {
    checkAbsolute(m.hostPath, "mount hostPath");
    checkAbsolute(m.sandboxPath, "mount sandboxPath");
    if (m.sandboxPath === "/") throw new ValidationError("a mount may not replace the sandbox root");
    const reserved = RESERVED_SANDBOX_PATHS.find((r) => isUnder(m.sandboxPath, r));
    if (reserved) throw new ValidationError(`mount sandboxPath ${m.sandboxPath} is inside reserved ${reserved}`);
    if (seen.has(m.sandboxPath)) throw new ValidationError(`two mounts at ${m.sandboxPath}`);
    seen.add(m.sandboxPath);
  }
  return [...mounts].sort((a, b) => a.sandboxPath.split("/").length - b.sandboxPath.split("/").length);
}

export function validatePathPrepend(dirs: readonly string[]): string[] {
  for (const d of dirs) {
    checkAbsolute(d, "pathPrepend entry");
    if (d.includes(":")) throw new ValidationError(`pathPrepend entry may not contain ":": ${d}`);
  }
  return [...dirs];
}
