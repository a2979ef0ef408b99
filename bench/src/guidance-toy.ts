/**
 * Agent-RLVR guidance on the tiny model: does guidance raise the training pass rate? Runs
 * examples/toy-recall-guidance.yaml through `sluice up` in one invocation, for the same number
 * of steps and seed: guided (as the example says); unguided (guidance off, all else equal); and
 * an equal-data control, unguided with groups large enough to train as many episodes per step
 * as the guided run did (first attempts and re-attempts), so a gain is not just more samples.
 * Each run ends with the final evaluation (spec.evaluation): fresh unguided samples of the
 * final policy on held-out tasks. Prints, per run, the pass rates of the trained episodes
 * (first attempts; guided re-attempts; all trained) over the whole run and over its last
 * quarter, split by recall's open-book and closed-book prompts, the held-out pass@1 / pass@N,
 * and a last line of JSON.
 *   node bench/dist/guidance-toy.js [--steps N] [--context keep|strip|strip_with_is]
 *     [--runs guided,unguided,control] [--out DIR]
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_ROOT, argValue, loadExperimentManifest, type ExperimentManifest } from "@sluice/common";
import { runSluice } from "@sluice/common/internal";

const SPEC = resolve(REPO_ROOT, "examples/toy-recall-guidance.yaml");
const stepsArg = argValue(process.argv, "--steps");
const context = argValue(process.argv, "--context");
const out = resolve(argValue(process.argv, "--out") ?? "/tmp/sluice-guidance-toy");
/** Deadline of one `sluice up` run; it gets SIGINT after this. */
const RUN_DEADLINE_MS = Number(argValue(process.argv, "--run-deadline-ms") ?? 40 * 60_000);

interface Summary {
  steps: number;
  trajectories_trained: number;
  reward_mean_by_step: number[];
  wall_seconds: number;
  evaluation?: { tasks: number; samples_per_task: number; pass_at_1: number; pass_at_n: number; complete: boolean };
}

interface EpisodeRecord {
  step: number;
  guidance_round: number;
  passed: boolean;
  failure?: string;
  text: string;
}

/** Pass rates of one slice of episodes; null where the slice is empty. */
interface Rates {
  episodes: number;
  all: number | null;
  openBook: number | null;
  closedBook: number | null;
}

interface RunFigures {
  run: string;
  steps: number;
  wallSeconds: number;
  trained: number;
  /** Trained episodes over the whole run and over its last quarter: first attempts, guided re-attempts, all. */
  whole: { first: Rates; reattempts: Rates; trained: Rates };
  lastQuarter: { first: Rates; reattempts: Rates; trained: Rates };
  /** The final policy's fresh samples on held-out tasks (spec.evaluation): pass@1 by prompt kind, pass@N. */
  heldOut: { passAt1: Rates; passAtN: number | null };
  finalReward: number | null;
}

/** recall's open-book prompts show the answer ("expected 4"); the transcripts have no guidance in them. */
const isOpenBook = (r: EpisodeRecord): boolean => r.text.includes("expected");

function rates(xs: readonly EpisodeRecord[]): Rates {
  const share = (ys: readonly EpisodeRecord[]): number | null =>
    ys.length > 0 ? ys.filter((r) => r.passed).length / ys.length : null;
  return {
    episodes: xs.length,
    all: share(xs),
    openBook: share(xs.filter(isOpenBook)),
    closedBook: share(xs.filter((r) => !isOpenBook(r))),
  };
}

function slices(recs: readonly EpisodeRecord[]): RunFigures["whole"] {
  return {
    first: rates(recs.filter((r) => r.guidance_round === 0)),
    reattempts: rates(recs.filter((r) => r.guidance_round > 0)),
    trained: rates(recs),
  };
}

function readJsonl(path: string): EpisodeRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EpisodeRecord);
}

function variant(base: ExperimentManifest, guided: boolean): ExperimentManifest {
  const m = structuredClone(base);
  m.spec.guidance.enabled = guided;
  if (guided && context !== undefined)
    m.spec.guidance.context = context as ExperimentManifest["spec"]["guidance"]["context"];
  m.spec.evaluation.enabled = true;
  // The unguided run writes its trained data too, for the same pass rates.
  m.spec.learner.exportTrainedData = true;
  return m;
}

async function runOne(name: string, manifest: ExperimentManifest): Promise<RunFigures> {
  const dir = join(out, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const specPath = join(dir, "spec.json");
  writeFileSync(specPath, JSON.stringify(manifest));
  const runDir = join(dir, "run");
  const args = ["up", "-f", specPath, "--run-dir", runDir, ...(stepsArg !== undefined ? ["--steps", stepsArg] : [])];
  process.stderr.write(`guidance-toy: ${name} run -> ${runDir}\n`);
  const { code, output } = await runSluice(args, RUN_DEADLINE_MS);
  writeFileSync(join(dir, "sluice-up.log"), output);
  if (code !== 0) throw new Error(`the ${name} run failed (exit ${code}); see ${join(dir, "sluice-up.log")}`);
  const s = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Summary;
  const trained = readJsonl(join(runDir, "guided-data.jsonl"));
  const fromStep = Math.floor((s.steps * 3) / 4) + 1;
  const held = readJsonl(join(runDir, "eval-samples.jsonl")).filter((r) => !r.failure);
  return {
    run: name,
    steps: s.steps,
    wallSeconds: s.wall_seconds,
    trained: s.trajectories_trained,
    whole: slices(trained),
    lastQuarter: slices(trained.filter((r) => r.step >= fromStep)),
    heldOut: { passAt1: rates(held), passAtN: s.evaluation?.pass_at_n ?? null },
    finalReward: s.reward_mean_by_step.at(-1) ?? null,
  };
}

const pct = (x: number | null): string => (x === null ? "   -  " : `${(100 * x).toFixed(1).padStart(5)}%`);

const row = (label: string, r: Rates): string =>
  `  ${label.padEnd(22)} ${String(r.episodes).padStart(7)}  ${pct(r.all)}  ${pct(r.openBook)}  ${pct(r.closedBook)}\n`;

const base = loadExperimentManifest(SPEC);
mkdirSync(out, { recursive: true });
const runs = new Set((argValue(process.argv, "--runs") ?? "guided,unguided,control").split(","));
const results: RunFigures[] = [];
const guided = runs.has("guided") ? await runOne("guided", variant(base, true)) : undefined;
if (guided) results.push(guided);
if (runs.has("unguided")) results.push(await runOne("unguided", variant(base, false)));
if (runs.has("control") && guided) {
  // Equal data: an unguided run whose larger groups train as many episodes per step as the
  // guided run's first attempts and re-attempts together, so a gain is not just more samples.
  const m = variant(base, false);
  const perStep = guided.trained / Math.max(1, guided.steps) / m.spec.rollout.groupsPerStep;
  m.spec.rollout.groupSize = Math.max(m.spec.rollout.groupSize, Math.round(perStep));
  m.spec.rollout.maxConcurrentEpisodes = Math.max(
    m.spec.rollout.maxConcurrentEpisodes,
    m.spec.rollout.groupSize * m.spec.rollout.groupsPerStep,
  );
  results.push(await runOne(`control-g${m.spec.rollout.groupSize}`, m));
}
const ctx = context ?? base.spec.guidance.context;
process.stdout.write(`guidance-toy: ${SPEC} (context ${ctx}), seed ${base.spec.seed}\n`);
for (const r of results) {
  process.stdout.write(
    `${r.run}: ${r.steps} steps, ${r.trained} trained, ${r.wallSeconds.toFixed(0)} s, final reward ${r.finalReward?.toFixed(3) ?? "-"}\n` +
      `  pass rate of                episodes    all    open-book  closed-book\n` +
      row("first attempts", r.whole.first) +
      row("guided re-attempts", r.whole.reattempts) +
      row("all trained", r.whole.trained) +
      row("last quarter: first", r.lastQuarter.first) +
      row("last quarter: re-att.", r.lastQuarter.reattempts) +
      row("last quarter: trained", r.lastQuarter.trained) +
      row("held-out pass@1", r.heldOut.passAt1) +
      `  held-out pass@N (any of N): ${pct(r.heldOut.passAtN)}\n`,
  );
}
const ratio = (a: number | null, b: number | null): string =>
  a !== null && b !== null && b > 0 ? (a / b).toFixed(2) : "-";
if (guided) {
  for (const other of results.filter((r) => r !== guided)) {
    process.stdout.write(
      `training pass rate guided / ${other.run}: whole run ${ratio(guided.whole.trained.all, other.whole.trained.all)}, ` +
        `last quarter ${ratio(guided.lastQuarter.trained.all, other.lastQuarter.trained.all)}\n`,
    );
  }
}
process.stdout.write(JSON.stringify({ spec: SPEC, context: ctx, runs: results }) + "\n");
