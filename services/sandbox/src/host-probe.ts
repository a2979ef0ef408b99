import { randomUUID } from "node:crypto";
import { access, chown, constants, lstat, mkdtemp, open, readlink, rm } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, type Logger } from "@sluice/common";
import type { SandboxLimitsSpec, SandboxMount } from "./backend.js";
import {
  LAUNCH_FAILED_EXIT,
  LAUNCH_FAILED_MARKER,
  RLIMIT_LABELS,
  SANDBOX_UID,
  bwrapArgs,
  launchCommand,
  type BwrapFeatures,
  type SystemLayout,
} from "./bwrap-args.js";
import type { CgroupManager, SandboxCgroup } from "./cgroups.js";
import { SandboxHostError } from "./errors.js";
import { runProcess, type RunResult } from "./process-runner.js";

/** What the host offers; detected once at start. */
export interface HostSetup {
  bwrapPath: string;
  /** Absolute path of prlimit (also valid inside the sandbox, /usr is bound); "" if missing. */
  prlimitPath: string;
  /** setpriv, to drop from root to `runAs` after joining a cgroup; "" if missing. */
  setprivPath: string;
  layout: SystemLayout;
  features: BwrapFeatures;
  /** Host uid/gid bwrap runs under; undefined = our own (not root, or dropping failed). */
  runAs: { uid: number; gid: number } | undefined;
  /** File holding the seccomp program, opened for each command; "" for none. */
  seccompFile: string;
  /** Per-sandbox cgroups; undefined when the host has none we can use. */
  cgroups: CgroupManager | undefined;
  enforced: string[];
  /** Every label this backend can enforce somewhere but does not here. */
  notEnforced: string[];
}

export interface ProbeOptions {
  bwrapPath: string;
  prlimitPath: string;
  setprivPath: string;
  /** Where a scratch workspace for the probe is made (the backend's base dir). */
  baseDir: string;
  /** Unprivileged host ids to run sandboxes as when we are root. */
  hostUid: number;
  hostGid: number;
  /** "" when seccomp is not available for this architecture. */
  seccompFile: string;
  cgroups: CgroupManager | undefined;
  /** Why cgroups are (partly) unavailable, for the log. */
  cgroupProblems: readonly string[];
  logger: Logger;
}

/** Every label the bubblewrap backend knows, in the order they are reported. */
export const ALL_LABELS = [
  "ns:user",
  "ns:pid",
  "ns:ipc",
  "ns:uts",
  "ns:cgroup",
  "ns:mount",
  "ns:net",
  "net:none",
  "fs:system-readonly",
  "fs:root-readonly",
  "fs:workspace-only",
  "uid:nonroot",
  "host-uid:unprivileged",
  "userns:disabled",
  "seccomp",
  "cgroup:memory",
  "cgroup:pids",
  "cgroup:cpu",
  ...RLIMIT_LABELS,
  "tmp:size-capped",
  "timeout:wallclock",
  "output:capped",
] as const;

const TOP_LEVEL = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];
/** Probe limits: small, but large enough for `sh` and `cat`. */
const PROBE_LIMITS: SandboxLimitsSpec = {
  memoryBytes: 512 * 1024 ** 2,
  maxProcesses: 64,
  maxFileBytes: 1024 ** 2,
  maxOpenFiles: 63,
  cpuSeconds: 10,
};
// Prints, one per line: uid inside, interfaces visible, the soft nproc / nofile / as limits
// in force (read from /proc rather than `ulimit`, whose flags differ between shells), the
// seccomp mode, whether a nested user namespace can be made, whether / is writable.
const PROBE_SCRIPT = [
  "id -u",
  'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" ,; echo',
  "sed -n 's/^Max processes  *\\([0-9a-z]*\\).*/\\1/p' /proc/self/limits",
  "sed -n 's/^Max open files  *\\([0-9a-z]*\\).*/\\1/p' /proc/self/limits",
  "sed -n 's/^Max address space  *\\([0-9a-z]*\\).*/\\1/p' /proc/self/limits",
  "sed -n 's/^Seccomp:[^0-9]*//p' /proc/self/status",
  "if ! command -v unshare >/dev/null; then echo unknown; elif unshare -U true 2>/dev/null; then echo open; else echo blocked; fi",
  "if touch /.sluice-probe 2>/dev/null; then echo rw; else echo ro; fi",
].join("; ");

async function systemLayout(): Promise<SystemLayout> {
  const entries: SystemLayout["entries"][number][] = [];
  for (const path of TOP_LEVEL) {
    try {
      const st = await lstat(path);
      if (st.isSymbolicLink()) entries.push({ path, kind: "symlink", target: await readlink(path) });
      else if (st.isDirectory()) entries.push({ path, kind: "dir" });
    } catch {
      // Not on this host; nothing to bind.
    }
  }
  return { entries };
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Optional flags this bwrap understands, read from its --help. */
async function bwrapFeatures(bwrapPath: string): Promise<BwrapFeatures> {
  try {
    const res = await runProcess({
      file: bwrapPath,
      args: ["--help"],
      stdin: new Uint8Array(),
      timeoutMs: 5_000,
      maxOutputBytes: 65536,
    });
    const help = res.stdout.toString() + res.stderr.toString();
    return { tmpfsSize: help.includes("--size"), disableUserns: help.includes("--disable-userns") };
  } catch {
    return { tmpfsSize: false, disableUserns: false };
  }
}

/** One command in a sandbox, everything the backend applies included. */
export interface SandboxedCommand {
  workspaceHostPath: string;
  workdir: string;
  env: Readonly<Record<string, string>>;
  limits: SandboxLimitsSpec;
  mounts: readonly SandboxMount[];
  pathPrepend: readonly string[];
  argv: readonly string[];
  stdin: Uint8Array;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
  /** The sandbox's cgroup; undefined when cgroups are off. */
  cgroup: SandboxCgroup | undefined;
}

/**
 * Spawns one sandboxed command as `host` says: inside the sandbox's cgroup, under the
 * seccomp filter, with rlimits, as the unprivileged host uid. The seccomp file is opened
 * per command because bwrap consumes the fd it is given.
 */
export async function runSandboxed(host: HostSetup, cmd: SandboxedCommand): Promise<RunResult> {
  const fh = host.seccompFile ? await open(host.seccompFile, "r") : undefined;
  try {
    const memoryCgroup = cmd.cgroup !== undefined && host.cgroups?.controllers.includes("memory") === true;
    const args = bwrapArgs(host.layout, {
      workspaceHostPath: cmd.workspaceHostPath,
      workdir: cmd.workdir,
      env: cmd.env,
      limits: host.prlimitPath ? cmd.limits : undefined,
      addressSpaceLimit: !memoryCgroup,
      prlimitPath: host.prlimitPath,
      argv: cmd.argv,
      features: host.features,
      mounts: cmd.mounts,
      pathPrepend: cmd.pathPrepend,
      seccompFd: fh ? 3 : undefined,
      tmpBytes: cmd.limits.memoryBytes,
    });
    const launch = launchCommand({
      bwrapPath: host.bwrapPath,
      bwrapArgs: args,
      procsFiles: cmd.cgroup?.procsFiles ?? [],
      runAs: host.runAs,
      setprivPath: host.setprivPath,
    });
    const res = await runProcess({
      file: launch.file,
      args: launch.args,
      stdin: cmd.stdin,
      timeoutMs: cmd.timeoutMs,
      maxOutputBytes: cmd.maxOutputBytes,
      ...(cmd.signal ? { signal: cmd.signal } : {}),
      ...(launch.uid === undefined ? {} : { uid: launch.uid }),
      ...(launch.gid === undefined ? {} : { gid: launch.gid }),
      ...(fh ? { extraFds: [fh.fd] } : {}),
    });
    const stderr = res.stderr.toString();
    if (res.exitCode === LAUNCH_FAILED_EXIT && stderr.startsWith(LAUNCH_FAILED_MARKER)) {
      throw new SandboxHostError(`cannot start the sandboxed command: ${stderr.trim()}`, {
        context: { procsFiles: cmd.cgroup?.procsFiles },
      });
    }
    return res;
  } finally {
    await fh?.close();
  }
}

interface Attempt {
  runAs: HostSetup["runAs"];
  seccomp: boolean;
  cgroup: boolean;
}

function describeAttempt(a: Attempt): string {
  return `${a.runAs ? `as uid ${a.runAs.uid}` : "as self"}${a.seccomp ? " +seccomp" : ""}${a.cgroup ? " +cgroup" : ""}`;
}

/**
 * Runs a tiny command in a real sandbox and reads back what was in force, so the
 * `enforced` list is observed rather than assumed. Being root on the host matters: a
 * sandbox mapped to host root could read root-only files through the read-only binds and
 * the kernel does not apply RLIMIT_NPROC to root, so we run bwrap as an unprivileged uid.
 * Seccomp and cgroups are tried first and dropped (and reported) if they stop bwrap.
 */
export async function probeHost(options: ProbeOptions): Promise<HostSetup> {
  if (!(await executable(options.bwrapPath))) {
    throw new SandboxHostError(`bubblewrap not found or not executable at ${options.bwrapPath}`);
  }
  const prlimitPath =
    options.prlimitPath.startsWith("/usr/") && (await executable(options.prlimitPath)) ? options.prlimitPath : "";
  const setprivPath = (await executable(options.setprivPath)) ? options.setprivPath : "";
  const layout = await systemLayout();
  const features = await bwrapFeatures(options.bwrapPath);
  const runAsCandidates: Array<HostSetup["runAs"]> = [];
  if (process.getuid?.() === 0) runAsCandidates.push({ uid: options.hostUid, gid: options.hostGid });
  runAsCandidates.push(undefined);
  const attempts: Attempt[] = [];
  for (const runAs of runAsCandidates) {
    const seccomp = options.seccompFile !== "";
    if (options.cgroups) attempts.push({ runAs, seccomp, cgroup: true });
    attempts.push({ runAs, seccomp, cgroup: false });
    if (seccomp) attempts.push({ runAs, seccomp: false, cgroup: false });
  }

  const failures: string[] = [];
  for (const attempt of attempts) {
    const host: HostSetup = {
      bwrapPath: options.bwrapPath,
      prlimitPath,
      setprivPath,
      layout,
      features,
      runAs: attempt.runAs,
      seccompFile: attempt.seccomp ? options.seccompFile : "",
      cgroups: attempt.cgroup ? options.cgroups : undefined,
      enforced: [],
      notEnforced: [],
    };
    const dir = await mkdtemp(join(options.baseDir, ".probe-"));
    let cgroup: SandboxCgroup | undefined;
    try {
      if (attempt.runAs) await chown(dir, attempt.runAs.uid, attempt.runAs.gid);
      if (host.cgroups) {
        cgroup = await host.cgroups.create(`sbx-probe-${randomUUID()}`, {
          memoryBytes: PROBE_LIMITS.memoryBytes,
          maxProcesses: PROBE_LIMITS.maxProcesses,
          cpus: 1,
        });
        if (attempt.runAs && !setprivPath) await chownProcs(cgroup, attempt.runAs);
      }
      const res = await runSandboxed(host, {
        workspaceHostPath: dir,
        workdir: "",
        env: {},
        limits: PROBE_LIMITS,
        mounts: [],
        pathPrepend: [],
        argv: ["/bin/sh", "-c", PROBE_SCRIPT],
        stdin: new Uint8Array(),
        timeoutMs: 10_000,
        maxOutputBytes: 4096,
        cgroup,
      });
      if (res.exitCode !== 0) {
        failures.push(
          `${describeAttempt(attempt)}: exit ${res.exitCode} ${res.signal} ${res.stderr.toString().trim()}`,
        );
        continue;
      }
      host.enforced = observedLabels(host, res.stdout.toString());
      host.notEnforced = ALL_LABELS.filter((l) => !host.enforced.includes(l));
      options.logger.info("sandbox host enforcement", {
        backend: "bubblewrap",
        enforced: host.enforced,
        notEnforced: host.notEnforced,
        runAs: attempt.runAs ? `${attempt.runAs.uid}:${attempt.runAs.gid}` : "self",
        cgroup: host.cgroups ? host.cgroups.version : "none",
        ...(host.cgroups ? { cgroupParents: host.cgroups.parents } : {}),
        ...(options.cgroupProblems.length ? { cgroupProblems: options.cgroupProblems } : {}),
        seccomp: host.seccompFile ? process.arch : "off",
        prlimit: prlimitPath || "missing",
        setpriv: setprivPath || "missing",
        ...(failures.length ? { fallbackFrom: failures } : {}),
      });
      return host;
    } catch (err) {
      failures.push(`${describeAttempt(attempt)}: ${errorMessage(err)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await cgroup?.destroy().catch((err: unknown) => failures.push(`probe cgroup: ${errorMessage(err)}`));
    }
  }
  throw new SandboxHostError(`bubblewrap does not work on this host: ${failures.join("; ")}`);
}

/** Without setpriv the launcher runs as the sandbox uid and joins the cgroup itself (v1 only). */
export async function chownProcs(cgroup: SandboxCgroup, runAs: { uid: number; gid: number }): Promise<void> {
  await Promise.all(cgroup.procsFiles.map((f) => chown(f, runAs.uid, runAs.gid)));
}

function observedLabels(host: HostSetup, stdout: string): string[] {
  const [uid, ifaces, nproc, nofile, as, seccompMode, userns, rootFs] = stdout.trim().split("\n");
  const enforced = ["ns:user", "ns:pid", "ns:ipc", "ns:uts", "ns:cgroup", "ns:mount"];
  if (ifaces === "lo,") enforced.push("ns:net", "net:none");
  enforced.push("fs:system-readonly");
  if (rootFs === "ro") enforced.push("fs:root-readonly");
  enforced.push("fs:workspace-only");
  if (uid === String(SANDBOX_UID)) enforced.push("uid:nonroot");
  if (host.runAs || process.getuid?.() !== 0) enforced.push("host-uid:unprivileged");
  if (userns === "blocked") enforced.push("userns:disabled");
  // Mode 2 is "filter": our program is loaded.
  if (host.seccompFile && seccompMode === "2") enforced.push("seccomp");
  for (const c of host.cgroups?.controllers ?? []) enforced.push(`cgroup:${c}`);
  if (host.prlimitPath) {
    for (const label of RLIMIT_LABELS) {
      // RLIMIT_NPROC is not applied to host root, so only claim it when not root.
      if (
        label === "rlimit:nproc" &&
        (nproc !== String(PROBE_LIMITS.maxProcesses) || !enforced.includes("host-uid:unprivileged"))
      )
        continue;
      if (label === "rlimit:nofile" && nofile !== String(PROBE_LIMITS.maxOpenFiles)) continue;
      if (label === "rlimit:as" && as !== String(PROBE_LIMITS.memoryBytes)) continue;
      enforced.push(label);
    }
  }
  if (host.features.tmpfsSize) enforced.push("tmp:size-capped");
  enforced.push("timeout:wallclock", "output:capped");
  return enforced;
}
