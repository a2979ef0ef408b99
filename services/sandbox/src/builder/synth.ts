// Synthesized bugs (SWE-smith style): one mutation at one site of the library source, kept
// when the test suite notices it in a few tests, reliably, and not in most others.
import type { NpmTaskEnv, SweTask } from "@sluice/common";
import type { TestRun } from "../environments/test-runner.js";
import type { TestStatus } from "../grading/index.js";
import { TaskBuildError } from "./errors.js";
import { JsSyntaxError } from "./js-ast.js";
import { applyMutation, enumerateMutations, MUTATION_KINDS, type MutationKind, type MutationRef } from "./mutations.js";
import {
  buildTestEnv,
  publishedSource,
  readFileSet,
  sig,
  testDependencyRanges,
  testLayout,
  type BuildContext,
} from "./package-env.js";
import { diffFile } from "./patch.js";
import { orderedPool } from "./pool.js";
import { seededShuffle, shortHash } from "./prng.js";
import type { PackageRecipe } from "./recipes.js";
import {
  classifyTests,
  FailureSetDeduper,
  identicalStatuses,
  keepVerdict,
  stableStatuses,
  type KeepRules,
  type TestLists,
} from "./selection.js";
import { synthStatement } from "./statement.js";
import { runSuite } from "./suite-runner.js";
import { finalizeTask, npmRepo } from "./task-record.js";

export interface SynthOptions {
  maxKeep: number;
  maxCandidates: number;
  seed: string;
  jobs: number;
  rules: KeepRules;
  /** Publication time of the version (created_at). */
  publishedAt: string;
}

export interface KindCount {
  tried: number;
  kept: number;
}

export interface SynthReport {
  package: string;
  version: string;
  sites: number;
  tried: number;
  kept: number;
  /** Why candidates were dropped, by reason. */
  rejected: Record<string, number>;
  byKind: Record<MutationKind, KindCount>;
  baseline: {
    tests: number;
    stable: number;
    passing: number;
    testFiles: number;
    droppedTestFiles: string[];
    runMs: number;
  };
}

type Evaluation =
  { ok: false; reason: string } | { ok: true; ref: MutationRef; mutated: string; lists: TestLists; run: TestRun };

/** Reasons are bucketed (not per-count) so the report stays short and comparable. */
function reasonBucket(reason: string): string {
  return reason.replace(/\s*\(.*\)$/, "");
}

const BASELINE_RUNS = 3;
const MIN_CANDIDATE_TEST_MS = 5_000;
const MAX_CANDIDATE_TEST_MS = 30_000;

export function safePackageName(pkg: string): string {
  return pkg.replace(/^@/, "").replace(/\//g, "__");
}

export async function synthesizeTasks(
  ctx: BuildContext,
  recipe: PackageRecipe,
  options: SynthOptions,
): Promise<{ tasks: SweTask[]; report: SynthReport }> {
  const log = ctx.logger.child({ package: recipe.package, version: recipe.version, kind: "synth" });
  const src = await publishedSource(ctx, recipe.package, recipe.version);
  const layout = await testLayout(recipe, src);
  if (layout.testFiles.length === 0) {
    throw new TaskBuildError(
      `${recipe.package}@${recipe.version}: no test file matching ${recipe.testGlobs.join(", ")} loads ${recipe.runner}`,
      {
        package: recipe.package,
        version: recipe.version,
      },
    );
  }
  const ranges = await testDependencyRanges(recipe, src, layout, src.manifest, log);
  const { env, menv } = await buildTestEnv(ctx, {
    recipe,
    base: src,
    testFiles: layout.testFiles,
    ranges,
    lockName: `${safePackageName(recipe.package)}@${recipe.version}`,
  });

  // Clean baseline, several times: a test whose status varies is flaky and never graded.
  const baselineStarted = performance.now();
  const baseline = await Promise.all(
    Array.from({ length: BASELINE_RUNS }, (_, i) =>
      runSuite(ctx.suite, menv, env, new Map(), `${recipe.package}-baseline-${i}`),
    ),
  );
  const stable = stableStatuses(baseline.map((r) => r.statuses));
  const passingFiles = new Set([...stable].filter(([, s]) => s === "PASSED").map(([id]) => fileOf(id)));
  const testFiles = env.test_files.filter((f) => passingFiles.has(f));
  const dropped = env.test_files.filter((f) => !passingFiles.has(f));
  const taskEnv: NpmTaskEnv = { ...env, test_files: testFiles };
  const slowest = Math.max(0, ...baseline.flatMap((r) => r.files.map((f) => f.durationMs)));
  // A bug that loops forever must cost seconds, not the task's generous per-file timeout.
  const candidateEnv: NpmTaskEnv = {
    ...taskEnv,
    timeouts: {
      ...taskEnv.timeouts,
      test_ms: Math.min(MAX_CANDIDATE_TEST_MS, Math.max(MIN_CANDIDATE_TEST_MS, slowest * 10)),
    },
  };
  const fixed = new Map<string, TestStatus>([...stable].filter(([id]) => passingFiles.has(fileOf(id))));
  const report: SynthReport = {
    package: recipe.package,
    version: recipe.version,
    sites: 0,
    tried: 0,
    kept: 0,
    rejected: {},
    byKind: Object.fromEntries(MUTATION_KINDS.map((k) => [k, { tried: 0, kept: 0 }])) as Record<
      MutationKind,
      KindCount
    >,
    baseline: {
      tests: new Set(baseline.flatMap((r) => [...r.statuses.keys()])).size,
      stable: stable.size,
      passing: [...fixed.values()].filter((s) => s === "PASSED").length,
      testFiles: testFiles.length,
      droppedTestFiles: dropped,
      runMs: Math.round((performance.now() - baselineStarted) / BASELINE_RUNS),
    },
  };
  log.info("baseline", { ...report.baseline, flaky: report.baseline.tests - stable.size });

  const sources = await readFileSet(src.dir, layout.sourceFiles);
  const refs: MutationRef[] = [];
  for (const [file, code] of sources) {
    try {
      refs.push(...enumerateMutations(file, code));
    } catch (err) {
      if (!(err instanceof JsSyntaxError)) throw err;
      log.warn("source file does not parse; no bugs from it", { file, error: err.message });
    }
  }
  report.sites = refs.length;
  const candidates = seededShuffle(refs, `${options.seed}/${recipe.package}@${recipe.version}`).slice(
    0,
    options.maxCandidates,
  );

  const evaluate = async (ref: MutationRef, index: number): Promise<Evaluation> => {
    const code = sources.get(ref.file) as string;
    const mutated = applyMutation(code, ref);
    if (mutated === null) return { ok: false, reason: "does not reprint faithfully" };
    const label = `${recipe.package}-c${index}`;
    const overrides = new Map([[ref.file, mutated]]);
    const first = await runSuite(ctx.suite, menv, candidateEnv, overrides, `${label}a`);
    if (first.files.some((f) => f.timedOut)) return { ok: false, reason: "a test file timed out" };
    const lists = classifyTests(fixed, first.statuses);
    const verdict = keepVerdict(lists, options.rules);
    if (!verdict.keep) return { ok: false, reason: verdict.reason };
    // Only candidates that would be kept pay for the second run.
    const second = await runSuite(ctx.suite, menv, candidateEnv, overrides, `${label}b`);
    if (!identicalStatuses(first.statuses, second.statuses)) return { ok: false, reason: "bugged runs differ" };
    return { ok: true, ref, mutated, lists, run: first };
  };

  const deduper = new FailureSetDeduper();
  const kept: Array<Extract<Evaluation, { ok: true }>> = [];
  await orderedPool(candidates, options.jobs, evaluate, (result, ref, index) => {
    report.tried++;
    report.byKind[ref.kind].tried++;
    let reason: string | undefined;
    if (!result.ok) reason = reasonBucket(result.reason);
    else if (!deduper.claim(result.lists.failToPass)) reason = "same failing tests as an earlier bug";
    if (reason === undefined && result.ok) {
      kept.push(result);
      report.byKind[ref.kind].kept++;
    } else if (reason !== undefined) {
      report.rejected[reason] = (report.rejected[reason] ?? 0) + 1;
    }
    log.debug("candidate", {
      index,
      file: ref.file,
      line: ref.line,
      mutation: ref.kind,
      detail: ref.detail,
      kept: reason === undefined,
      reason,
    });
    if ((index + 1) % 25 === 0) log.info("progress", { tried: report.tried, kept: kept.length, of: candidates.length });
    return kept.length < options.maxKeep;
  });
  report.kept = kept.length;

  const tasks: SweTask[] = [];
  for (const k of kept) {
    tasks.push(
      await synthTask(ctx, recipe, taskEnv, menv, k, sources.get(k.ref.file) as string, layout.sourceFiles, options),
    );
  }
  log.info("synthesized", { tried: report.tried, kept: report.kept, rejected: report.rejected });
  return { tasks, report };
}

function fileOf(testId: string): string {
  const i = testId.indexOf("::");
  return i === -1 ? testId : testId.slice(0, i);
}

async function synthTask(
  ctx: BuildContext,
  recipe: PackageRecipe,
  env: NpmTaskEnv,
  menv: Parameters<typeof finalizeTask>[1],
  k: Extract<Evaluation, { ok: true }>,
  clean: string,
  sourceFiles: readonly string[],
  options: SynthOptions,
): Promise<SweTask> {
  const setupPatch = await diffFile(k.ref.file, clean, k.mutated);
  const patch = await diffFile(k.ref.file, k.mutated, clean);
  const instanceId = `${safePackageName(recipe.package)}__${recipe.version}.synth.${shortHash(setupPatch)}`;
  const hidden = [...new Set(k.lists.failToPass.map(fileOf))].sort();
  return finalizeTask(
    {
      instanceId,
      repo: npmRepo(recipe.package),
      patch,
      testPatch: "",
      problemStatement: synthStatement({
        instanceId,
        packageName: recipe.package,
        version: recipe.version,
        failing: k.lists.failToPass.map((id) => ({ id, messages: k.run.failureMessages.get(id) ?? [] })),
        redact: sourceFiles,
      }),
      createdAt: options.publishedAt,
      version: recipe.version,
      failToPass: k.lists.failToPass,
      passToPass: k.lists.passToPass,
      env: { ...env, setup_patch: setupPatch, hidden_paths: hidden },
      extra: { builder: { kind: "synth", operator: k.ref.kind } },
    },
    menv,
    { cacheDir: ctx.cacheDir, ...sig(ctx) },
  );
}
