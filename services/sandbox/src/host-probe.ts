import { access, constants, lstat, mkdtemp, readlink, rm, chown } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, type Logger } from "@sluice/common";
import { bwrapArgs, RLIMIT_LABELS, SANDBOX_UID, type SystemLayout } from "./bwrap-args.js";
import { SandboxHostError } from "./errors.js";
import { runProcess } from "./process-runner.js";
import type { SandboxLimitsSpec } from "./backend.js";

/** What the host offers; detected once at start. */
export interface HostSetup {
  bwrapPath: string;
  /** Absolute path of prlimit (also valid inside the sandbox, /usr is bound); "" if missing. */
  prlimitPath: string;
  layout: SystemLayout;
  /** Host uid/gid bwrap runs under; undefined = our own (not root, or dropping failed). */
  runAs: { uid: number; gid: number } | undefined;
  enforced: string[];
}

export interface ProbeOptions {
  bwrapPath: string;
  prlimitPath: string;
  /** Where a scratch workspace for the probe is made (the backend's base dir). */
  baseDir: string;
  /** Unprivileged host ids to run sandboxes as when we are root. */
  hostUid: number;
  hostGid: number;
  logger: Logger;
}

const TOP_LEVEL = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];
/** Probe limits: small, but large enough for `sh` and `cat`. */
const PROBE_LIMITS: SandboxLimitsSpec = {
  memoryBytes: 512 * 1024 ** 2,
  maxProcesses: 64,
  maxFileBytes: 1024 ** 2,
  maxOpenFiles: 63,
  cpuSeconds: 10,
};
// Prints: uid inside, interfaces visible, and the soft nproc / nofile limits in force
// (read from /proc rather than `ulimit`, whose flags differ between shells).
const PROBE_SCRIPT = [
  "id -u",
  'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" ,; echo',
  "sed -n 's/^Max processes  *\\([0-9a-z]*\\).*/\\1/p' /proc/self/limits",
  "sed -n 's/^Max open files  *\\([0-9a-z]*\\).*/\\1/p' /proc/self/limits",
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

/**
 * Runs a tiny command in a real sandbox and reads back what was in force, so the
 * `enforced` list is observed rather than assumed. Being root on the host matters: a
 * sandbox mapped to host root could read root-only files through the read-only binds and
 * the kernel does not apply RLIMIT_NPROC to root, so we run bwrap as an unprivileged uid.
 */
export async function probeHost(options: ProbeOptions): Promise<HostSetup> {
  if (!(await executable(options.bwrapPath))) {
    throw new SandboxHostError(`bubblewrap not found or not executable at ${options.bwrapPath}`);
  }
  const prlimitPath =
    options.prlimitPath.startsWith("/usr/") && (await executable(options.prlimitPath)) ? options.prlimitPath : "";
  const layout = await systemLayout();
  const candidates: Array<HostSetup["runAs"]> = [];
  if (process.getuid?.() === 0) candidates.push({ uid: options.hostUid, gid: options.hostGid });
  candidates.push(undefined);

  const failures: string[] = [];
  for (const runAs of candidates) {
    const dir = await mkdtemp(join(options.baseDir, ".probe-"));
    try {
      if (runAs) await chown(dir, runAs.uid, runAs.gid);
      const res = await runProcess({
        file: options.bwrapPath,
        args: bwrapArgs(layout, {
          workspaceHostPath: dir,
          workdir: "",
          env: {},
          limits: prlimitPath ? PROBE_LIMITS : undefined,
          prlimitPath,
          argv: ["/bin/sh", "-c", PROBE_SCRIPT],
        }),
        stdin: new Uint8Array(),
        timeoutMs: 10_000,
        maxOutputBytes: 4096,
        ...(runAs ?? {}),
      });
      if (res.exitCode !== 0) {
        failures.push(
          `${runAs ? `as uid ${runAs.uid}` : "as self"}: exit ${res.exitCode} ${res.signal} ${res.stderr.toString().trim()}`,
        );
        continue;
      }
      const [uid, ifaces, nproc, nofile] = res.stdout.toString().trim().split("\n");
      const enforced = [
        "ns:user",
        "ns:pid",
        "ns:ipc",
        "ns:uts",
        "ns:cgroup",
        "ns:mount",
        "fs:system-readonly",
        "fs:workspace-only",
      ];
      if (ifaces === "lo,") enforced.push("ns:net", "net:none");
      if (uid === String(SANDBOX_UID)) enforced.push("uid:nonroot");
      if (runAs || process.getuid?.() !== 0) enforced.push("host-uid:unprivileged");
      if (prlimitPath) {
        for (const label of RLIMIT_LABELS) {
          // RLIMIT_NPROC is not applied to host root, so only claim it when not root.
          if (
            label === "rlimit:nproc" &&
            (nproc !== String(PROBE_LIMITS.maxProcesses) || !enforced.includes("host-uid:unprivileged"))
          )
            continue;
          if (label === "rlimit:nofile" && nofile !== String(PROBE_LIMITS.maxOpenFiles)) continue;
          enforced.push(label);
        }
      }
      enforced.push("timeout:wallclock", "output:capped");
      const setup: HostSetup = { bwrapPath: options.bwrapPath, prlimitPath, layout, runAs, enforced };
      options.logger.info("sandbox host probed", {
        backend: "bubblewrap",
        enforced,
        runAs: runAs ? `${runAs.uid}:${runAs.gid}` : "self",
        prlimit: prlimitPath || "missing",
        ...(failures.length ? { fallbackFrom: failures } : {}),
      });
      return setup;
    } catch (err) {
      failures.push(`${runAs ? `as uid ${runAs.uid}` : "as self"}: ${errorMessage(err)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw new SandboxHostError(`bubblewrap does not work on this host: ${failures.join("; ")}`);
}
