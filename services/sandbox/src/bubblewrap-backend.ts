import { createHash, randomUUID } from "node:crypto";
import { chmod, mkdir, readdir, realpath, rm, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { SluiceError, ValidationError, errorMessage, type Logger } from "@sluice/common";
import type {
  CreateSandboxOptions,
  ExecOptions,
  ExecResult,
  ReadFileResult,
  SandboxBackend,
  SandboxInfo,
  SandboxLimitsSpec,
  SandboxMount,
} from "./backend.js";
import { isValidEnvName, validateMounts, validatePathPrepend } from "./bwrap-args.js";
import { CgroupManager, type SandboxCgroup } from "./cgroups.js";
import {
  GRPC_FAILED_PRECONDITION,
  SandboxCapacityError,
  SandboxFileNotFoundError,
  SandboxNotFoundError,
  SandboxStatusError,
} from "./errors.js";
import { chownProcs, probeHost, runSandboxed, type HostSetup } from "./host-probe.js";
import {
  DEFAULT_READ_BYTES,
  MAX_COMMAND_TIMEOUT_MS,
  MAX_OUTPUT_BYTES_CAP,
  MAX_READ_BYTES,
  clampLimits,
  orDefault,
  type SandboxDefaults,
} from "./limits.js";
import { runProcess, type RunResult } from "./process-runner.js";
import { buildSeccompFilter, seccompArch } from "./seccomp.js";
import { resolveWorkspacePath } from "./workspace-path.js";

export interface BubblewrapBackendOptions {
  /** Parent of every workspace; created if missing. */
  baseDir: string;
  defaults: SandboxDefaults;
  logger: Logger;
  /** Live sandboxes allowed at once (default 64). */
  maxSandboxes?: number;
  bwrapPath?: string;
  prlimitPath?: string;
  setprivPath?: string;
  /** CPU quota of each sandbox's cgroup, in CPUs (default 1). */
  cpusPerSandbox?: number;
  /** Set false to run without per-sandbox cgroups even where the host has them. */
  useCgroups?: boolean;
  /** Unprivileged host ids sandboxes run as when this process is root (default nobody). */
  hostUid?: number;
  hostGid?: number;
  /** Deadline for WriteFile / ReadFile and for copying the workspace source. */
  fileOpTimeoutMs?: number;
  copyTimeoutMs?: number;
}

interface SandboxRecord {
  id: string;
  dir: string;
  limits: SandboxLimitsSpec;
  env: Record<string, string>;
  mounts: SandboxMount[];
  pathPrepend: string[];
  cgroup: SandboxCgroup | undefined;
  episodeId: string;
  /** Aborted on destroy: kills every running command of this sandbox. */
  abort: AbortController;
  running: Set<Promise<unknown>>;
}

const DEFAULT_MAX_SANDBOXES = 64;
const NOBODY = 65534;
const SECCOMP_FILE = ".seccomp.bpf";

/**
 * Local sandboxes with bubblewrap: one workspace directory per sandbox (a copy of the
 * source, so episodes never see each other's edits) and one fresh set of namespaces per
 * command. Nothing but the workspace persists between commands of a sandbox; /tmp and any
 * background processes end with each command.
 */
export class BubblewrapBackend implements SandboxBackend {
  readonly kind = "bubblewrap";
  private readonly sandboxes = new Map<string, SandboxRecord>();
  /** Creates in flight; they count against the bound before their record exists. */
  private pending = 0;
  private readonly maxSandboxes: number;
  private readonly fileOpTimeoutMs: number;
  private readonly copyTimeoutMs: number;

  private constructor(
    private readonly options: BubblewrapBackendOptions,
    private readonly host: HostSetup,
  ) {
    this.maxSandboxes = options.maxSandboxes ?? DEFAULT_MAX_SANDBOXES;
    this.fileOpTimeoutMs = options.fileOpTimeoutMs ?? 30_000;
    this.copyTimeoutMs = options.copyTimeoutMs ?? 300_000;
  }

  /** Creates the base dir and probes the host once; fails if bwrap cannot run here. */
  static async create(options: BubblewrapBackendOptions): Promise<BubblewrapBackend> {
    await mkdir(options.baseDir, { recursive: true });
    // Traversable but not listable: the unprivileged sandbox uid must reach its own
    // workspace, and has no business enumerating the others.
    await chmod(options.baseDir, 0o711);
    await removeLeftovers(options.baseDir, options.logger);
    const seccompFile = await writeSeccompFile(options.baseDir);
    const { manager: cgroups, problems } =
      options.useCgroups === false
        ? { manager: undefined, problems: ["disabled by configuration"] }
        : await CgroupManager.detect({ name: cgroupName(options.baseDir) });
    const staleCgroups = (await cgroups?.removeLeftovers()) ?? 0;
    if (staleCgroups > 0) options.logger.warn("removed leftover sandbox cgroups", { count: staleCgroups });
    const host = await probeHost({
      bwrapPath: options.bwrapPath ?? "/usr/bin/bwrap",
      prlimitPath: options.prlimitPath ?? "/usr/bin/prlimit",
      setprivPath: options.setprivPath ?? "/usr/bin/setpriv",
      baseDir: options.baseDir,
      hostUid: options.hostUid ?? NOBODY,
      hostGid: options.hostGid ?? NOBODY,
      seccompFile,
      cgroups,
      cgroupProblems: problems,
      logger: options.logger,
    });
    // The probe may have given up on cgroups; then their parent directories go now.
    if (cgroups && !host.cgroups) await cgroups.close();
    return new BubblewrapBackend(options, host);
  }

  capabilities(): readonly string[] {
    return this.host.enforced;
  }

  liveCount(): number {
    return this.sandboxes.size;
  }

  async create(options: CreateSandboxOptions): Promise<SandboxInfo> {
    for (const name of Object.keys(options.env)) {
      if (!isValidEnvName(name))
        throw new ValidationError(`invalid environment variable name: ${JSON.stringify(name)}`);
    }
    if (options.workspaceSource) await checkSourceDir(options.workspaceSource);
    const mounts = await this.checkMounts(options.mounts ?? []);
    const pathPrepend = validatePathPrepend(options.pathPrepend ?? []);
    if (this.sandboxes.size + this.pending >= this.maxSandboxes) throw new SandboxCapacityError(this.maxSandboxes);
    this.pending++;
    const id = `sbx-${randomUUID()}`;
    const dir = join(this.options.baseDir, id);
    const limits = clampLimits(this.options.defaults.limits, options.limits);
    let cgroup: SandboxCgroup | undefined;
    try {
      await mkdir(dir, { mode: 0o755 });
      if (options.workspaceSource) await this.copySource(options.workspaceSource, dir);
      if (this.host.runAs)
        await this.hostCommand("chown", ["-R", "--", `${this.host.runAs.uid}:${this.host.runAs.gid}`, dir]);
      cgroup = await this.host.cgroups?.create(id, {
        memoryBytes: limits.memoryBytes,
        maxProcesses: limits.maxProcesses,
        cpus: this.options.cpusPerSandbox ?? 1,
      });
      if (cgroup && this.host.runAs && !this.host.setprivPath) await chownProcs(cgroup, this.host.runAs);
    } catch (err) {
      this.pending--;
      await rm(dir, { recursive: true, force: true });
      await cgroup?.destroy().catch(() => undefined);
      throw err;
    }
    this.pending--;
    const record: SandboxRecord = {
      id,
      dir,
      limits,
      env: { ...options.env },
      mounts,
      pathPrepend,
      cgroup,
      episodeId: options.episodeId,
      abort: new AbortController(),
      running: new Set(),
    };
    this.sandboxes.set(id, record);
    this.options.logger.debug("sandbox created", { sandboxId: id, episodeId: options.episodeId });
    return { sandboxId: id, workspacePath: dir, enforced: this.host.enforced };
  }

  async exec(sandboxId: string, options: ExecOptions): Promise<ExecResult> {
    const sb = this.get(sandboxId);
    if (options.argv.length === 0 || options.argv[0] === "") throw new ValidationError("argv must not be empty");
    const workdir = await resolveWorkspacePath(sb.dir, options.workdir, "workdir");
    if (workdir.relative !== "" && !workdir.isDirectory) {
      throw new ValidationError(`workdir is not a directory in the workspace: ${options.workdir}`);
    }
    const d = this.options.defaults;
    const res = await this.runInSandbox(sb, {
      argv: options.argv,
      workdir: workdir.relative,
      stdin: options.stdin,
      timeoutMs: orDefault(options.timeoutMs, d.commandTimeoutMs, MAX_COMMAND_TIMEOUT_MS),
      maxOutputBytes: orDefault(options.maxOutputBytes, d.maxOutputBytes, MAX_OUTPUT_BYTES_CAP),
    });
    return {
      exitCode: res.exitCode,
      stdout: res.stdout,
      stderr: res.stderr,
      timedOut: res.timedOut,
      outputTruncated: res.outputTruncated,
      durationMs: res.durationMs,
      signal: res.signal,
    };
  }

  async writeFile(sandboxId: string, path: string, content: Uint8Array): Promise<void> {
    const sb = this.get(sandboxId);
    const target = await resolveWorkspacePath(sb.dir, path);
    if (target.relative === "" || target.isDirectory) throw new ValidationError(`cannot write to a directory: ${path}`);
    // The write runs inside the sandbox, as the sandbox user: files get the right owner, the
    // file-size rlimit applies, and a symlink swapped in after our check cannot redirect
    // the write anywhere the sandbox itself could not write.
    const res = await this.runInSandbox(sb, {
      argv: ["/bin/sh", "-c", 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', "sh", target.relative],
      workdir: "",
      stdin: content,
      timeoutMs: this.fileOpTimeoutMs,
      maxOutputBytes: 4096,
    });
    if (res.exitCode !== 0) throw fileOpError("write", path, res);
  }

  async readFile(sandboxId: string, path: string, maxBytes: number): Promise<ReadFileResult> {
    const sb = this.get(sandboxId);
    const target = await resolveWorkspacePath(sb.dir, path);
    if (!target.exists) throw new SandboxFileNotFoundError(sandboxId, path);
    if (target.isDirectory) throw new ValidationError(`cannot read a directory: ${path}`);
    const limit = orDefault(maxBytes, DEFAULT_READ_BYTES, MAX_READ_BYTES);
    // One byte past the limit tells us whether the file was longer.
    const res = await this.runInSandbox(sb, {
      argv: ["/usr/bin/head", "-c", String(limit + 1), "--", target.relative],
      workdir: "",
      stdin: new Uint8Array(),
      timeoutMs: this.fileOpTimeoutMs,
      maxOutputBytes: limit + 1,
    });
    if (res.exitCode !== 0) throw fileOpError("read", path, res);
    return { content: res.stdout.subarray(0, limit), truncated: res.stdout.length > limit };
  }

  async destroy(sandboxId: string): Promise<void> {
    const sb = this.get(sandboxId);
    // Unregister first so concurrent calls see NOT_FOUND rather than a half-removed workspace.
    this.sandboxes.delete(sandboxId);
    sb.abort.abort();
    await Promise.allSettled([...sb.running]);
    await rm(sb.dir, { recursive: true, force: true, maxRetries: 3 });
    await sb.cgroup?.destroy().catch((err: unknown) => {
      // Not the caller's problem: the workspace is gone; a restart removes the leftover.
      this.options.logger.warn("sandbox cgroup not removed", { sandboxId, error: errorMessage(err) });
    });
    this.options.logger.debug("sandbox destroyed", { sandboxId, episodeId: sb.episodeId });
  }

  async close(): Promise<void> {
    const ids = [...this.sandboxes.keys()];
    const results = await Promise.allSettled(ids.map((id) => this.destroy(id)));
    const failed = results.filter((r) => r.status === "rejected").length;
    if (ids.length > 0) this.options.logger.info("destroyed all sandboxes", { count: ids.length, failed });
    await this.host.cgroups?.close();
  }

  private get(sandboxId: string): SandboxRecord {
    const sb = this.sandboxes.get(sandboxId);
    if (!sb) throw new SandboxNotFoundError(sandboxId);
    return sb;
  }

  private async runInSandbox(
    sb: SandboxRecord,
    cmd: { argv: readonly string[]; workdir: string; stdin: Uint8Array; timeoutMs: number; maxOutputBytes: number },
  ): Promise<RunResult> {
    const run = runSandboxed(this.host, {
      workspaceHostPath: sb.dir,
      workdir: cmd.workdir,
      env: sb.env,
      limits: sb.limits,
      mounts: sb.mounts,
      pathPrepend: sb.pathPrepend,
      argv: cmd.argv,
      stdin: cmd.stdin,
      timeoutMs: cmd.timeoutMs,
      maxOutputBytes: cmd.maxOutputBytes,
      signal: sb.abort.signal,
      cgroup: sb.cgroup,
    });
    sb.running.add(run);
    try {
      return await run;
    } finally {
      sb.running.delete(run);
    }
  }

  /**
   * Mount requests: well-formed (validateMounts), existing on the host, and never inside
   * our base dir, which would hand a sandbox other sandboxes' workspaces.
   */
  private async checkMounts(requested: readonly SandboxMount[]): Promise<SandboxMount[]> {
    const mounts = validateMounts(requested);
    const base = await realpath(this.options.baseDir);
    for (const m of mounts) {
      let real: string;
      try {
        real = await realpath(m.hostPath);
      } catch {
        throw new ValidationError(`mount hostPath does not exist: ${m.hostPath}`);
      }
      if (isWithin(real, base) || isWithin(base, real)) {
        throw new ValidationError(`mount hostPath may not contain or be inside the sandbox base dir: ${m.hostPath}`);
      }
      await this.checkReachable(m.hostPath, real);
    }
    return mounts;
  }

  /**
   * bwrap binds as the sandbox's host uid, so a path only root can reach (anything under
   * a 0700 /root) would fail every command with an obscure bwrap error; say so here.
   */
  private async checkReachable(requested: string, real: string): Promise<void> {
    const runAs = this.host.runAs;
    const parts = real.split("/").filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
      const path = `/${parts.slice(0, i).join("/")}`;
      const st = await stat(path);
      const isTarget = i === parts.length;
      // Others' bits apply to the sandbox uid unless it owns the path.
      const need = isTarget ? (st.isDirectory() ? 0o5 : 0o4) : 0o1;
      const shift = runAs && st.uid === runAs.uid ? 6 : runAs && st.gid === runAs.gid ? 3 : 0;
      const bits = (st.mode >> shift) & 0o7;
      if (runAs && (bits & need) !== need) {
        throw new ValidationError(
          `mount hostPath ${requested} is not readable by the sandbox user (uid ${runAs.uid}): ${path} has mode ${(st.mode & 0o7777).toString(8)}`,
          { context: { hostPath: requested, blockedAt: path } },
        );
      }
    }
  }

  private async copySource(source: string, dir: string): Promise<void> {
    // cp -a keeps modes, symlinks and timestamps; --reflink=auto makes it copy-on-write
    // where the filesystem supports it, so large repositories are cheap per episode.
    await this.hostCommand("cp", ["-a", "--reflink=auto", "--", `${source}/.`, dir], this.copyTimeoutMs);
  }

  private async hostCommand(cmd: string, args: string[], timeoutMs = this.copyTimeoutMs): Promise<void> {
    let res: RunResult;
    try {
      res = await runProcess({ file: cmd, args, stdin: new Uint8Array(), timeoutMs, maxOutputBytes: 4096 });
    } catch (cause) {
      throw new SluiceError(`${cmd} failed to start: ${errorMessage(cause)}`, { cause });
    }
    if (res.exitCode !== 0) {
      throw new SluiceError(
        `${cmd} ${args.join(" ")} failed (exit ${res.exitCode}${res.timedOut ? ", timed out" : ""}): ${res.stderr.toString().trim()}`,
      );
    }
  }
}

/**
 * Workspaces left by a previous process on this base dir (a crash skips destroy-all).
 * One backend owns a base dir, so anything sandbox-shaped here is ours and dead.
 */
async function removeLeftovers(baseDir: string, logger: Logger): Promise<void> {
  const stale = (await readdir(baseDir)).filter((n) => n.startsWith("sbx-") || n.startsWith(".probe-"));
  await Promise.all(stale.map((n) => rm(join(baseDir, n), { recursive: true, force: true })));
  if (stale.length > 0) logger.warn("removed leftover sandbox workspaces", { baseDir, count: stale.length });
}

function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel));
}

/** The seccomp program, written once; "" when there is none for this architecture. */
async function writeSeccompFile(baseDir: string): Promise<string> {
  const arch = seccompArch();
  if (!arch) return "";
  const path = join(baseDir, SECCOMP_FILE);
  // Only we open it (bwrap gets an fd), so it need not be readable by the sandbox uid.
  await writeFile(path, buildSeccompFilter(arch), { mode: 0o600 });
  return path;
}

/** Distinct per base dir, so two backends on one host never touch each other's cgroups. */
function cgroupName(baseDir: string): string {
  return createHash("sha256").update(baseDir).digest("hex").slice(0, 16);
}

async function checkSourceDir(source: string): Promise<void> {
  if (!isAbsolute(source)) throw new ValidationError(`workspace_source must be an absolute path: ${source}`);
  try {
    if ((await stat(source)).isDirectory()) return;
  } catch {
    // Reported below.
  }
  throw new ValidationError(`workspace_source is not a directory: ${source}`);
}

function fileOpError(op: string, path: string, res: RunResult): SandboxStatusError {
  const why = res.timedOut ? "timed out" : `exit ${res.exitCode}${res.signal ? ` ${res.signal}` : ""}`;
  return new SandboxStatusError(
    `${op} ${path} failed (${why}): ${res.stderr.toString().trim()}`,
    GRPC_FAILED_PRECONDITION,
    {
      context: { path },
    },
  );
}
