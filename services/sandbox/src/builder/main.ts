// `sluice tasks build`: builds SWE tasks from npm packages that ship their tests (synthesized
// bugs and mined upstream fixes), validates each in a sandbox, and writes the task set.
import { mkdtemp, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  errorMessage,
  loadTaskSet,
  taskToJson,
  ValidationError,
  type Logger,
  type SweTask,
} from "@sluice/common";
import { BubblewrapBackend } from "../bubblewrap-backend.js";
import { packageMetadata } from "../environments/npm-registry.js";
import { parseBuildOptions, TASKS_BUILD_USAGE, type BuildOptions } from "./options.js";
import { ENVS_DIR, type BuildContext } from "./package-env.js";
import { Semaphore } from "./pool.js";
import { renderReadme, type BuildReport, type PackageBuildReport } from "./report.js";
import { DEFAULT_KEEP_RULES } from "./selection.js";
import { safePackageName, synthesizeTasks } from "./synth.js";
import { mineUpstreamFixes } from "./upstream.js";
import { sandboxDefaultsFromSpec } from "../spec-defaults.js";

const REPORT_FILE = "reports/build-report.json";

/** Entry point for the CLI; returns the process exit code. */
export async function runTasksBuild(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(TASKS_BUILD_USAGE);
    return 0;
  }
  let options: BuildOptions;
  try {
    options = parseBuildOptions(argv);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    process.stderr.write(`sluice tasks build: ${err.message}\n\n${TASKS_BUILD_USAGE}`);
    return 2;
  }
  const logger = createLogger({ experiment: "tasks-build", component: "task-builder" });
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const { failed } = await buildTaskSet(options, logger, abort.signal);
    return failed ? 1 : 0;
  } catch (err) {
    logger.error("tasks build failed", { error: err instanceof Error ? err : errorMessage(err) });
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Builds every requested package and writes the set; `failed` when a package could not be built. */
export async function buildTaskSet(
  options: BuildOptions,
  logger: Logger,
  signal?: AbortSignal,
): Promise<{ failed: boolean; report: BuildReport }> {
  const started = performance.now();
  await mkdir(options.outDir, { recursive: true });
  const baseDir = await mkdtemp(join(tmpdir(), "sluice-tasks-build-"));
  // Sandbox uid must reach the cached dependencies; the defaults match the sandbox service.
  const backend = await BubblewrapBackend.create({
    baseDir,
    maxSandboxes: options.jobs * 4,
    defaults: sandboxDefaultsFromSpec(),
    logger: logger.child({ component: "sandbox" }),
  });
  const ctx: BuildContext = {
    cacheDir: options.cacheDir,
    outDir: options.outDir,
    logger,
    suite: { backend, slots: new Semaphore(options.jobs), ...(signal ? { signal } : {}) },
    lockMemo: new Map(),
    ...(signal ? { signal } : {}),
  };
  const report = await readReport(options);
  let failed = false;
  try {
    for (const recipe of options.recipes) {
      const pkgStarted = performance.now();
      const log = logger.child({ package: recipe.package });
      log.info("package start", { version: recipe.version, kinds: [...options.kinds] });
      try {
        const meta = await packageMetadata(recipe.package, signal);
        const tasks: SweTask[] = [];
        const entry: PackageBuildReport = { package: recipe.package, version: recipe.version, durationMs: 0 };
        if (options.kinds.has("upstream")) {
          const up = await mineUpstreamFixes(ctx, recipe, {
            rules: DEFAULT_KEEP_RULES,
            versions: meta.versions,
            time: meta.time,
          });
          tasks.push(...up.tasks);
          entry.upstream = up.report;
        }
        if (options.kinds.has("synth")) {
          const synth = await synthesizeTasks(ctx, recipe, {
            maxKeep: options.maxPerPackage,
            maxCandidates: options.maxCandidates,
            seed: options.seed,
            jobs: options.jobs,
            rules: DEFAULT_KEEP_RULES,
            publishedAt: meta.time[recipe.version] ?? "",
          });
          tasks.push(...synth.tasks);
          entry.synth = synth.report;
        }
        await writePackageTasks(options.outDir, recipe.package, tasks);
        entry.durationMs = Math.round(performance.now() - pkgStarted);
        report.packages[recipe.package] = entry;
        log.info("package done", { tasks: tasks.length, ms: entry.durationMs });
      } catch (err) {
        if (signal?.aborted) throw err;
        failed = true;
        log.error("package failed; its previous tasks (if any) are left as they were", {
          error: err instanceof Error ? err : errorMessage(err),
        });
      }
    }
  } finally {
    await backend.close();
    await rm(baseDir, { recursive: true, force: true });
  }
  report.lastRunMs = Math.round(performance.now() - started);
  await mkdir(join(options.outDir, "reports"), { recursive: true });
  await writeFileAtomic(join(options.outDir, REPORT_FILE), JSON.stringify(report, null, 2) + "\n");
  const loaded = loadTaskSet([options.outDir]);
  for (const e of loaded.errors) logger.error("written task does not load", { error: e.message });
  const byFile = new Map<string, SweTask[]>();
  for (const t of loaded.tasks) {
    const name = t.file.split("/").pop() ?? t.file;
    byFile.set(name, [...(byFile.get(name) ?? []), t.task]);
  }
  await writeFileAtomic(join(options.outDir, "README.md"), renderReadme(byFile, report, options.recipes));
  logger.info("tasks build done", {
    tasks: loaded.tasks.length,
    errors: loaded.errors.length,
    ms: report.lastRunMs,
    out: options.outDir,
  });
  return { failed: failed || loaded.errors.length > 0, report };
}

/** Previous report entries survive a partial rebuild (--packages); the options are this run's. */
async function readReport(options: BuildOptions): Promise<BuildReport> {
  let packages: BuildReport["packages"] = {};
  try {
    const prev = JSON.parse(await readFile(join(options.outDir, REPORT_FILE), "utf8")) as Partial<BuildReport>;
    packages = prev.packages ?? {};
  } catch {
    // First build into this directory.
  }
  return {
    seed: options.seed,
    maxPerPackage: options.maxPerPackage,
    maxCandidates: options.maxCandidates,
    jobs: options.jobs,
    lastRunMs: 0,
    packages,
  };
}

/** <package>.jsonl in instance_id order, and no lockfile of this package that no task uses. */
async function writePackageTasks(outDir: string, pkg: string, tasks: readonly SweTask[]): Promise<void> {
  const sorted = [...tasks].sort((a, b) => a.instance_id.localeCompare(b.instance_id));
  const name = safePackageName(pkg);
  await writeFileAtomic(join(outDir, `${name}.jsonl`), sorted.map((t) => taskToJson(t) + "\n").join(""));
  const used = new Set(sorted.map((t) => t.env?.lockfile).filter((l): l is string => l !== undefined));
  for (const file of await readdir(join(outDir, ENVS_DIR)).catch(() => [] as string[])) {
    const rel = `${ENVS_DIR}/${file}`;
    if (file.startsWith(`${name}@`) && !used.has(rel)) await rm(join(outDir, rel), { force: true });
  }
}

async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}
