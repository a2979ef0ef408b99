// Shared steps of both task kinds: fetch a published version's source, find its tests and
// what they load, resolve and pin those dependencies, and build the environment.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger, NpmTaskEnv } from "@sluice/common";
import { materializeNpmEnv, type MaterializedEnv } from "../environments/npm-env.js";
import { packageVersionInfo } from "../environments/npm-registry.js";
import { listFiles, matchesAny, selectFiles } from "./glob.js";
import { JsSyntaxError } from "./js-ast.js";
import { resolveDependencies, type ResolvedDependencies } from "./lockfile.js";
import type { PackageRecipe } from "./recipes.js";
import type { SuiteContext } from "./suite-runner.js";
import { loadsRunner, packagesLoadedBy, planTestDependencies, type PackageJsonDeps } from "./test-deps.js";

export const ENVS_DIR = "envs";
export const DEFAULT_TEST_TIMEOUT_MS = 60_000;
export const DEFAULT_INSTALL_TIMEOUT_MS = 300_000;

export interface BuildContext {
  cacheDir: string;
  /** Where task files go; lockfiles go to <outDir>/envs/. */
  outDir: string;
  logger: Logger;
  suite: SuiteContext;
  signal?: AbortSignal;
  /** Lock resolutions by requested ranges: pairs of versions often need the same set. */
  lockMemo: Map<string, Promise<ResolvedDependencies>>;
}

export interface PublishedSource {
  version: string;
  integrity: string;
  dir: string;
  /** Every file of the tarball, relative, sorted. */
  files: string[];
  manifest: PackageJsonDeps & { version?: string };
}

export interface TestLayout {
  /** Test entry points, sorted: files matching the recipe that load the runner. */
  testFiles: string[];
  /** Files in the test tree (entry points, helpers, fixtures). */
  treeFiles: string[];
  /** Source files (recipe source globs). */
  sourceFiles: string[];
  /** Files that could not be parsed (skipped as tests; logged). */
  unparsable: string[];
}

/** The version as published, extracted into the cache (an env with no dependencies). */
export async function publishedSource(ctx: BuildContext, pkg: string, version: string): Promise<PublishedSource> {
  const info = await packageVersionInfo(pkg, version, ctx.signal);
  const bare: NpmTaskEnv = {
    kind: "npm",
    package: pkg,
    version,
    integrity: info.integrity,
    dependencies: {},
    install_steps: [],
    setup_patch: "",
    test_command: ["true"],
    test_files: [],
    result_parser: "tap",
    timeouts: { install_ms: DEFAULT_INSTALL_TIMEOUT_MS, test_ms: DEFAULT_TEST_TIMEOUT_MS },
    hidden_paths: [],
  };
  const menv = await materializeNpmEnv(bare, { cacheDir: ctx.cacheDir, logger: ctx.logger, ...sig(ctx) });
  const manifest = JSON.parse(
    await readFile(join(menv.sourceDir, "package.json"), "utf8"),
  ) as PublishedSource["manifest"];
  return { version, integrity: info.integrity, dir: menv.sourceDir, files: await listFiles(menv.sourceDir), manifest };
}

export async function readFileSet(dir: string, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of paths) out.set(p, await readFile(join(dir, p), "utf8"));
  return out;
}

export async function testLayout(recipe: PackageRecipe, src: PublishedSource): Promise<TestLayout> {
  const treeFiles = selectFiles(src.files, recipe.testTreeGlobs, recipe.testExclude);
  const unparsable: string[] = [];
  const testFiles: string[] = [];
  for (const file of selectFiles(src.files, recipe.testGlobs, recipe.testExclude)) {
    try {
      // A file in test/ that never loads the runner is a helper or fixture, not a suite.
      if (loadsRunner(await readFile(join(src.dir, file), "utf8"), file, recipe.runner)) testFiles.push(file);
    } catch (err) {
      if (!(err instanceof JsSyntaxError)) throw err;
      unparsable.push(file);
    }
  }
  return { testFiles, treeFiles, sourceFiles: selectFiles(src.files, recipe.sourceGlobs), unparsable };
}

/** Ranges for the runner, the runtime deps and everything the JS files of the test tree load. */
export async function testDependencyRanges(
  recipe: PackageRecipe,
  src: PublishedSource,
  layout: TestLayout,
  manifest: PackageJsonDeps,
  logger: Logger,
): Promise<Record<string, string>> {
  const js = layout.treeFiles.filter((f) => matchesAny(f, ["**/*.js", "**/*.cjs", "**/*.mjs"]));
  const sources: Array<{ path: string; code: string }> = [];
  for (const [path, code] of await readFileSet(src.dir, js)) {
    if (!layout.unparsable.includes(path)) sources.push({ path, code });
  }
  const plan = planTestDependencies(manifest, packagesLoadedBy(sources), recipe.runner);
  if (plan.undeclared.length > 0) {
    logger.warn("tests load packages the manifest does not declare; installing the latest", {
      package: recipe.package,
      version: src.version,
      undeclared: plan.undeclared,
    });
  }
  return plan.ranges;
}

export interface TestEnvRequest {
  recipe: PackageRecipe;
  /** The published version the workspace starts from. */
  base: PublishedSource;
  testFiles: string[];
  ranges: Record<string, string>;
  /** File name under envs/ (without extension). */
  lockName: string;
}

/** Pins the ranges, writes the lockfile next to the tasks, and builds the environment. */
export async function buildTestEnv(
  ctx: BuildContext,
  req: TestEnvRequest,
): Promise<{ env: NpmTaskEnv; menv: MaterializedEnv }> {
  const memoKey = JSON.stringify(req.ranges);
  let pending = ctx.lockMemo.get(memoKey);
  if (pending === undefined) {
    pending = resolveDependencies(req.ranges, ctx.signal);
    ctx.lockMemo.set(memoKey, pending);
  }
  const resolved = await pending;
  const lockfile = `${ENVS_DIR}/${req.lockName}.package-lock.json`;
  await mkdir(join(ctx.outDir, ENVS_DIR), { recursive: true });
  await writeFile(join(ctx.outDir, lockfile), resolved.lockfile);
  const env: NpmTaskEnv = {
    kind: "npm",
    package: req.recipe.package,
    version: req.base.version,
    integrity: req.base.integrity,
    dependencies: resolved.exact,
    lockfile,
    install_steps: ["npm ci --ignore-scripts --no-audit --no-fund"],
    setup_patch: "",
    test_command: [...req.recipe.testCommand],
    test_files: req.testFiles,
    result_parser: "tap",
    timeouts: { install_ms: DEFAULT_INSTALL_TIMEOUT_MS, test_ms: DEFAULT_TEST_TIMEOUT_MS },
    hidden_paths: [],
  };
  const menv = await materializeNpmEnv(env, {
    cacheDir: ctx.cacheDir,
    taskDir: ctx.outDir,
    logger: ctx.logger,
    ...sig(ctx),
  });
  return { env, menv };
}

export function sig(ctx: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}
