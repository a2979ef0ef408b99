/**
 * Per-sandbox control groups: a memory limit the OOM killer enforces inside the sandbox
 * only, a process (task) limit per sandbox rather than per host uid, and a CPU quota.
 * rlimits cannot do any of this: RLIMIT_AS bounds address space, not memory (and breaks
 * runtimes that reserve large heaps), RLIMIT_NPROC counts per user, and nothing bounds
 * CPU share. Works with cgroup v2 (unified), v1 (one hierarchy per controller) or not at
 * all, in which case the backend falls back to rlimits and says so.
 */
import { mkdir, readFile, readdir, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SluiceError, errorMessage } from "@sluice/common";

export type CgroupController = "memory" | "pids" | "cpu";
export const CGROUP_CONTROLLERS: readonly CgroupController[] = ["memory", "pids", "cpu"];
export type CgroupVersion = "v2" | "v1";

export interface CgroupLimits {
  memoryBytes: number;
  /** Tasks (processes and threads) alive at once in the sandbox. */
  maxProcesses: number;
  /** CPU time per wall-clock time, in CPUs (1 = one core's worth). */
  cpus: number;
}

/** A cgroup operation that failed; `context` names the file and the operation. */
export class CgroupError extends SluiceError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super(message, { context, ...(cause === undefined ? {} : { cause }) });
    this.name = "CgroupError";
  }
}

export interface MountEntry {
  /** Root of the mount within its filesystem (a cgroup path for cgroupfs). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** /proc/self/mountinfo lines; octal escapes (\040 for space) decoded. */
export function parseMountinfo(text: string): MountEntry[] {
  const unescape = (s: string): string =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const post = line.slice(sep + 3).split(" ");
    const [root, mountPoint] = [pre[3], pre[4]];
    const [fsType, , superOpts] = post;
    if (root === undefined || mountPoint === undefined || fsType === undefined) continue;
    out.push({
      root: unescape(root),
      mountPoint: unescape(mountPoint),
      fsType,
      superOptions: (superOpts ?? "").split(","),
    });
  }
  return out;
}

/** /proc/self/cgroup: controller list ("" for v2's "0::") to our cgroup path. */
export function parseProcCgroup(text: string): Array<{ controllers: string[]; path: string }> {
  const out: Array<{ controllers: string[]; path: string }> = [];
  for (const line of text.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out.push({ controllers: m[1] ? m[1].split(",") : [], path: m[2] });
  }
  return out;
}

/** Our cgroup as a directory under a mount: the path minus the mount's own root. */
export function cgroupDir(mount: MountEntry, path: string): string {
  const root = mount.root === "/" ? "" : mount.root;
  if (root && path !== root && !path.startsWith(`${root}/`)) return mount.mountPoint;
  return join(mount.mountPoint, path.slice(root.length));
}

/** The files and values that put `limits` in force, per controller. */
export function limitWrites(
  version: CgroupVersion,
  limits: CgroupLimits,
): Array<{ controller: CgroupController; file: string; value: string; optional?: boolean }> {
  const period = 100_000;
  const quota = Math.max(1_000, Math.round(limits.cpus * period));
  if (version === "v2") {
    return [
      { controller: "memory", file: "memory.max", value: String(limits.memoryBytes) },
      // Without this the limit only bounds RAM and a bomb spills into swap.
      { controller: "memory", file: "memory.swap.max", value: "0", optional: true },
      { controller: "pids", file: "pids.max", value: String(limits.maxProcesses) },
      { controller: "cpu", file: "cpu.max", value: `${quota} ${period}` },
    ];
  }
  return [
    { controller: "memory", file: "memory.limit_in_bytes", value: String(limits.memoryBytes) },
    // memory+swap must be set after memory (it may not be below it); absent without swap accounting.
    { controller: "memory", file: "memory.memsw.limit_in_bytes", value: String(limits.memoryBytes), optional: true },
    { controller: "pids", file: "pids.max", value: String(limits.maxProcesses) },
    { controller: "cpu", file: "cpu.cfs_period_us", value: String(period) },
    { controller: "cpu", file: "cpu.cfs_quota_us", value: String(quota) },
  ];
}

/** One sandbox's cgroup (one directory per v1 hierarchy, one in total under v2). */
export interface SandboxCgroup {
  /** Writing a pid to every one of these puts that process in the sandbox's cgroup. */
  readonly procsFiles: readonly string[];
  /** Kills whatever is left in it and removes it; safe to call twice. */
  destroy(): Promise<void>;
}

interface Hierarchy {
  controllers: CgroupController[];
  /** Our parent directory for sandboxes in this hierarchy: `<own cgroup>/sluice-<name>`. */
  parent: string;
}

const RMDIR_DEADLINE_MS = 5_000;
const POLL_MS = 20;

export interface CgroupDetectOptions {
  /** Directory name under which this backend's sandboxes live (unique per base dir). */
  name: string;
  /** For tests: alternative /proc/self/mountinfo and /proc/self/cgroup contents. */
  mountinfo?: string;
  procCgroup?: string;
}

/** Creates and removes per-sandbox cgroups; `detect` returns undefined when none work. */
export class CgroupManager {
  private constructor(
    readonly version: CgroupVersion,
    private readonly hierarchies: readonly Hierarchy[],
  ) {}

  /** Controllers this manager enforces. */
  get controllers(): CgroupController[] {
    return this.hierarchies.flatMap((h) => h.controllers);
  }

  /** Human-readable locations, for the startup log. */
  get parents(): string[] {
    return this.hierarchies.map((h) => h.parent);
  }

  /**
   * Prefers v2 when a unified hierarchy has our controllers, else v1 hierarchies. We nest
   * under our own cgroup when we may (limits of the service's own cgroup keep applying),
   * else under the hierarchy's root. Failures are returned in `problems`, never thrown:
   * a host without usable cgroups still runs sandboxes, on rlimits.
   */
  static async detect(options: CgroupDetectOptions): Promise<{ manager?: CgroupManager; problems: string[] }> {
    const problems: string[] = [];
    let mounts: MountEntry[];
    let own: ReturnType<typeof parseProcCgroup>;
    try {
      mounts = parseMountinfo(options.mountinfo ?? (await readFile("/proc/self/mountinfo", "utf8")));
      own = parseProcCgroup(options.procCgroup ?? (await readFile("/proc/self/cgroup", "utf8")));
    } catch (err) {
      return { problems: [`cannot read /proc: ${errorMessage(err)}`] };
    }
    const dirName = `sluice-${options.name}`;
    const v2 = await detectV2(mounts, own, dirName, problems);
    if (v2) return { manager: new CgroupManager("v2", [v2]), problems };
    const v1 = await detectV1(mounts, own, dirName, problems);
    if (v1.length > 0) return { manager: new CgroupManager("v1", v1), problems };
    return { problems };
  }

  /** A fresh cgroup named `id` with `limits` written; throws CgroupError if any write fails. */
  async create(id: string, limits: CgroupLimits): Promise<SandboxCgroup> {
    const dirs = this.hierarchies.map((h) => ({ h, dir: join(h.parent, id) }));
    const made: string[] = [];
    try {
      for (const { h, dir } of dirs) {
        await this.ensureParent(h);
        await mkdir(dir);
        made.push(dir);
        for (const w of limitWrites(this.version, limits)) {
          if (!h.controllers.includes(w.controller)) continue;
          await writeControl(join(dir, w.file), w.value, w.optional ?? false);
        }
      }
    } catch (err) {
      await Promise.allSettled(made.map((d) => removeCgroup(d)));
      if (err instanceof CgroupError) throw err;
      throw new CgroupError(`cannot create cgroup ${id}: ${errorMessage(err)}`, { id, op: "mkdir" }, err);
    }
    let destroyed: Promise<void> | undefined;
    return {
      procsFiles: dirs.map((d) => join(d.dir, "cgroup.procs")),
      destroy: () => (destroyed ??= removeAll(dirs.map((d) => d.dir))),
    };
  }

  /** close() removes the parents, yet a closed backend may still create sandboxes. */
  private async ensureParent(h: Hierarchy): Promise<void> {
    try {
      await mkdir(h.parent);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
      throw err;
    }
    if (this.version === "v2") await enableControllers(h.parent, h.controllers);
  }

  /** Cgroups a previous process on the same base dir left behind (a crash skips destroy). */
  async removeLeftovers(): Promise<number> {
    let n = 0;
    for (const h of this.hierarchies) {
      const names = await readdir(h.parent, { withFileTypes: true }).catch(() => []);
      const stale = names.filter((e) => e.isDirectory() && e.name.startsWith("sbx-"));
      await removeAll(stale.map((e) => join(h.parent, e.name)));
      n += stale.length;
    }
    return n;
  }

  /** Removes our parent directories (sandbox cgroups must be gone already). */
  async close(): Promise<void> {
    await Promise.allSettled(this.hierarchies.map((h) => rmdir(h.parent)));
  }
}

async function writeControl(path: string, value: string, optional: boolean): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new CgroupError(`cannot write ${value} to ${path}: ${errorMessage(err)}`, { path, value, op: "write" }, err);
  }
}

async function readControllers(file: string): Promise<string[]> {
  try {
    return (await readFile(file, "utf8")).trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

async function mkdirIfMissing(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/**
 * v2: controllers reach a child only if every ancestor enables them in
 * cgroup.subtree_control, and a non-root cgroup with processes of its own (the service's)
 * cannot enable them ("no internal processes"). So we try our own cgroup, then the root.
 */
async function detectV2(
  mounts: readonly MountEntry[],
  own: ReturnType<typeof parseProcCgroup>,
  dirName: string,
  problems: string[],
): Promise<Hierarchy | undefined> {
  const mount = mounts.find((m) => m.fsType === "cgroup2");
  const path = own.find((o) => o.controllers.length === 0)?.path;
  if (!mount || path === undefined) return undefined;
  const available = await readControllers(join(mount.mountPoint, "cgroup.controllers"));
  const wanted = CGROUP_CONTROLLERS.filter((c) => available.includes(c));
  if (wanted.length === 0) return undefined;
  const candidates = [...new Set([cgroupDir(mount, path), mount.mountPoint])];
  for (const base of candidates) {
    try {
      const enabled = await enableControllers(base, wanted);
      if (enabled.length === 0) {
        problems.push(`cgroup v2: cannot enable ${wanted.join(",")} in ${base}/cgroup.subtree_control`);
        continue;
      }
      const parent = join(base, dirName);
      await mkdirIfMissing(parent);
      const inParent = await enableControllers(parent, enabled);
      if (inParent.length === 0) {
        problems.push(`cgroup v2: cannot enable ${enabled.join(",")} in ${parent}`);
        continue;
      }
      return { controllers: inParent, parent };
    } catch (err) {
      problems.push(`cgroup v2 under ${base}: ${errorMessage(err)}`);
    }
  }
  return undefined;
}

/** Enables what it can of `wanted` for children of `dir`; returns what is enabled now. */
async function enableControllers(dir: string, wanted: readonly CgroupController[]): Promise<CgroupController[]> {
  const file = join(dir, "cgroup.subtree_control");
  for (const c of wanted) {
    if ((await readControllers(file)).includes(c)) continue;
    // One at a time: a single failing controller must not keep the others off.
    await writeFile(file, `+${c}`).catch(() => undefined);
  }
  const now = await readControllers(file);
  return wanted.filter((c) => now.includes(c));
}

/** v1: one hierarchy per mount; co-mounted controllers (cpu,cpuacct) share a directory. */
async function detectV1(
  mounts: readonly MountEntry[],
  own: ReturnType<typeof parseProcCgroup>,
  dirName: string,
  problems: string[],
): Promise<Hierarchy[]> {
  const byMount = new Map<MountEntry, CgroupController[]>();
  for (const c of CGROUP_CONTROLLERS) {
    const mount = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.includes(c));
    if (mount) byMount.set(mount, [...(byMount.get(mount) ?? []), c]);
  }
  const out: Hierarchy[] = [];
  for (const [mount, controllers] of byMount) {
    const path = own.find((o) => controllers.some((c) => o.controllers.includes(c)))?.path ?? "/";
    const candidates = [...new Set([cgroupDir(mount, path), mount.mountPoint])];
    let found: Hierarchy | undefined;
    for (const base of candidates) {
      const parent = join(base, dirName);
      try {
        await mkdirIfMissing(parent);
        found = { controllers, parent };
        break;
      } catch (err) {
        problems.push(`cgroup v1 ${controllers.join(",")} under ${base}: ${errorMessage(err)}`);
      }
    }
    if (found) out.push(found);
  }
  return out;
}

async function removeAll(dirs: readonly string[]): Promise<void> {
  const results = await Promise.allSettled(dirs.map((d) => removeCgroup(d)));
  const failed = results.flatMap((r) => (r.status === "rejected" ? [errorMessage(r.reason)] : []));
  if (failed.length > 0) throw new CgroupError(`cannot remove cgroups: ${failed.join("; ")}`, { dirs });
}

/**
 * rmdir succeeds once the cgroup is empty. Normally it already is (the sandbox's pid
 * namespace died with its bwrap); only if not, its processes are killed. Killing by pid
 * read from cgroup.procs could hit a reused pid, hence only as the second resort, and
 * cgroup.kill (v2, Linux 5.14+) first.
 */
async function removeCgroup(dir: string): Promise<void> {
  const deadline = Date.now() + RMDIR_DEADLINE_MS;
  let killed = false;
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || Date.now() > deadline) {
        throw new CgroupError(`cannot remove cgroup ${dir}: ${errorMessage(err)}`, { path: dir, op: "rmdir" }, err);
      }
    }
    if (!killed && Date.now() > deadline - RMDIR_DEADLINE_MS + 200) {
      killed = true;
      await killMembers(dir);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function killMembers(dir: string): Promise<void> {
  try {
    await writeFile(join(dir, "cgroup.kill"), "1");
    return;
  } catch {
    // v1, or a kernel before 5.14: kill one by one.
  }
  const pids = (await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "")).split("\n").filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
