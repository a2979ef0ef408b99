// Real fixes mined from consecutive published versions: the old version's source with the
// new version's tests must fail somewhere, and the new source must make those tests pass.
import type { NpmTaskEnv, SweTask } from "@sluice/common";
import type { MaterializedEnv } from "../environments/npm-env.js";
import type { TestStatus } from "../grading/index.js";
import {
  buildTestEnv,
  publishedSource,
  readFileSet,
  sig,
  testDependencyRanges,
  testLayout,
  type BuildContext,
  type PublishedSource,
  type TestLayout,
} from "./package-env.js";
import { diffFileSets, type FileSet } from "./patch.js";
import type { PackageRecipe } from "./recipes.js";
import { classifyTests, identicalStatuses, keepVerdict, stableStatuses, type KeepRules } from "./selection.js";
import { consecutivePairs, versionsBetween } from "./semver.js";
import { changelogEntries, upstreamStatement } from "./statement.js";
import { runSuite, type Overrides } from "./suite-runner.js";
import { safePackageName } from "./synth.js";
import { finalizeTask, npmRepo } from "./task-record.js";

export interface UpstreamOptions {
  rules: KeepRules;
  /** All published versions and their publication times (registry metadata). */
  versions: readonly string[];
  time: Readonly<Record<string, string>>;
}

export interface PairOutcome {
  from: string;
  to: string;
  /** "kept", or why the pair was skipped / rejected. */
  result: string;
  failToPass?: number;
  passToPass?: number;
}

export interface UpstreamReport {
  package: string;
  pairs: number;
  /** Pairs where both source and tests changed (the ones validated in a sandbox). */
  tried: number;
  kept: number;
  outcomes: PairOutcome[];
}

const FIXED_RUNS = 3;
const BROKEN_RUNS = 2;

interface Side {
  src: PublishedSource;
  layout: TestLayout;
  source: Map<string, string>;
  tests: Map<string, string>;
}

async function side(ctx: BuildContext, recipe: PackageRecipe, version: string): Promise<Side> {
  const src = await publishedSource(ctx, recipe.package, version);
  const layout = await testLayout(recipe, src);
  return {
    src,
    layout,
    source: await readFileSet(src.dir, layout.sourceFiles),
    tests: await readFileSet(src.dir, layout.treeFiles),
  };
}

function sameFiles(a: FileSet, b: FileSet): boolean {
  return a.size === b.size && [...a].every(([p, c]) => b.get(p) === c);
}

/** Overrides that turn `from` files into `to` files (writes, and deletions of the rest). */
function replaceFiles(from: FileSet, to: FileSet): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const p of from.keys()) if (!to.has(p)) out.set(p, null);
  for (const [p, c] of to) out.set(p, c);
  return out;
}

export async function mineUpstreamFixes(
  ctx: BuildContext,
  recipe: PackageRecipe,
  options: UpstreamOptions,
): Promise<{ tasks: SweTask[]; report: UpstreamReport }> {
  const log = ctx.logger.child({ package: recipe.package, kind: "upstream" });
  const pairs = consecutivePairs(versionsBetween(options.versions, recipe.upstreamFrom, recipe.version));
  const report: UpstreamReport = { package: recipe.package, pairs: pairs.length, tried: 0, kept: 0, outcomes: [] };
  const tasks: SweTask[] = [];
  let previous: Side | undefined;
  for (const [from, to] of pairs) {
    const old = previous?.src.version === from ? previous : await side(ctx, recipe, from);
    const neu = await side(ctx, recipe, to);
    previous = neu;
    const outcome = (result: string, extra: Partial<PairOutcome> = {}): void => {
      report.outcomes.push({ from, to, result, ...extra });
      log.info("pair", { from, to, result, ...extra });
    };
    if (old.layout.testFiles.length === 0 || neu.layout.testFiles.length === 0) {
      outcome("skipped: a tarball ships no tests");
      continue;
    }
    if (sameFiles(old.source, neu.source)) {
      outcome("skipped: source unchanged");
      continue;
    }
    if (sameFiles(old.tests, neu.tests)) {
      outcome("skipped: tests unchanged");
      continue;
    }
    report.tried++;
    try {
      const task = await validatePair(ctx, recipe, old, neu, options, outcome);
      if (task !== undefined) {
        tasks.push(task);
        report.kept++;
      }
    } catch (err) {
      // One pair whose environment cannot be built (a test dependency that no longer
      // installs, say) must not sink the rest of the build.
      outcome(`error: ${errorSummary(err)}`);
    }
  }
  return { tasks, report };
}

/** The first line of an error, plus npm's "No matching version" line when there is one. */
function errorSummary(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err)).split("\n");
  const why = lines.find((l) => /No matching version|notarget|E404/.test(l));
  return [lines[0], why].filter((l) => l !== undefined && l !== "").join(" / ");
}

async function validatePair(
  ctx: BuildContext,
  recipe: PackageRecipe,
  old: Side,
  neu: Side,
  options: UpstreamOptions,
  outcome: (result: string, extra?: Partial<PairOutcome>) => void,
): Promise<SweTask | undefined> {
  const from = old.src.version;
  const to = neu.src.version;
  // The old code has to run under the new tests, and the gold patch brings the new code:
  // runtime deps of both versions, test deps as the new version declares them.
  const manifest = {
    ...(neu.src.manifest.name === undefined ? {} : { name: neu.src.manifest.name }),
    dependencies: { ...(old.src.manifest.dependencies ?? {}), ...(neu.src.manifest.dependencies ?? {}) },
    devDependencies: neu.src.manifest.devDependencies ?? {},
  };
  const ranges = await testDependencyRanges(recipe, neu.src, neu.layout, manifest, ctx.logger);
  const { env, menv } = await buildTestEnv(ctx, {
    recipe,
    base: old.src,
    testFiles: neu.layout.testFiles,
    ranges,
    lockName: `${safePackageName(recipe.package)}@${from}+tests@${to}`,
  });
  const testOverrides = replaceFiles(old.tests, neu.tests);
  const fixedOverrides: Overrides = new Map([...testOverrides, ...replaceFiles(old.source, neu.source)]);
  const label = `${recipe.package}-${from}-${to}`;
  const [fixedRuns, brokenRuns] = await Promise.all([
    Promise.all(
      Array.from({ length: FIXED_RUNS }, (_, i) =>
        runSuite(ctx.suite, menv, env, fixedOverrides, `${label}-fixed${i}`),
      ),
    ),
    Promise.all(
      Array.from({ length: BROKEN_RUNS }, (_, i) =>
        runSuite(ctx.suite, menv, env, testOverrides, `${label}-broken${i}`),
      ),
    ),
  ]);
  const stable = stableStatuses(fixedRuns.map((r) => r.statuses));
  const broken = brokenRuns[0] as (typeof brokenRuns)[number];
  if (!brokenRuns.every((r) => identicalStatuses(r.statuses, broken.statuses))) {
    outcome("rejected: runs of the old code differ");
    return undefined;
  }
  const passingFiles = new Set(
    [...stable].filter(([, s]) => s === "PASSED").map(([id]) => id.split("::")[0] as string),
  );
  const fixed = new Map<string, TestStatus>(
    [...stable].filter(([id]) => passingFiles.has(id.split("::")[0] as string)),
  );
  const lists = classifyTests(fixed, broken.statuses);
  const counts = { failToPass: lists.failToPass.length, passToPass: lists.passToPass.length };
  const verdict = keepVerdict(lists, options.rules);
  if (!verdict.keep) {
    outcome(`rejected: ${verdict.reason}`, counts);
    return undefined;
  }
  const taskEnv: NpmTaskEnv = { ...env, test_files: env.test_files.filter((f) => passingFiles.has(f)) };
  const changelogFile = [...neu.src.files].find((f) => /^(changelog|history)(\.md)?$/i.test(f));
  const changelog = changelogFile
    ? changelogEntries((await readFileSet(neu.src.dir, [changelogFile])).get(changelogFile) ?? "", to)
    : [];
  const instanceId = `${safePackageName(recipe.package)}__${from}-${to}.upstream`;
  const task = await finalizeTask(
    {
      instanceId,
      repo: npmRepo(recipe.package),
      patch: await diffFileSets(old.source, neu.source),
      testPatch: await diffFileSets(old.tests, neu.tests),
      problemStatement: upstreamStatement({
        packageName: recipe.package,
        oldVersion: from,
        newVersion: to,
        changelog,
        failing: lists.failToPass.map((id) => ({ id, messages: broken.failureMessages.get(id) ?? [] })),
        redact: [...old.layout.sourceFiles, ...neu.layout.sourceFiles],
      }),
      createdAt: options.time[to] ?? "",
      version: from,
      failToPass: lists.failToPass,
      passToPass: lists.passToPass,
      env: taskEnv,
      extra: { builder: { kind: "upstream", from, to } },
    },
    menv satisfies MaterializedEnv,
    { cacheDir: ctx.cacheDir, ...sig(ctx) },
  );
  outcome("kept", counts);
  return task;
}
