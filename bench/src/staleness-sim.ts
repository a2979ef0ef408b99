/**
 * Staleness simulation: what bounded staleness (η) and partial rollouts buy in learner
 * throughput when episode times are long-tailed, on a fake clock (runs in seconds).
 *
 * Drives the real code: the actors' admission (`decideAdmission`, AReaL's form, through an
 * in-memory counter) and concurrency gate (a group runs whole, started when its G slots are
 * free), the learner's `GroupBuffer` (grouping, staleness filter at consumption with counted
 * drops, its staleness hook) and `buildStepBatch`. Simulated: episodes, inference, learner
 * compute and weight updates.
 *
 * Model (defaults in staleness-sim/config.ts, SWE_LIKE): 4 actors × 16 slots = 64 concurrent
 * episodes; G = 8, B = 8 (one step = 64 trajectories). Episode wall time lognormal, median
 * 45 s, σ = 1.0 (mean ≈ 74 s, p99 ≈ 460 s), cut at 900 s; 10 turns, each a generation call
 * (60% of the turn) then tool execution. The learner computes 40 s per step, then the new
 * weights load into inference for 8 s (nothing generates during the load). Partial rollouts
 * on: the update interrupts generation calls in flight, which resume afterwards (1 s
 * re-prefill) and whose later tokens carry the new version. Off: the update waits until the
 * generation calls in flight finish (none starts meanwhile). Either way the next turn's call
 * uses the newest weights, and a trajectory's version is its oldest action token's.
 * Throughput runs without the admission budget (the simulation stops at --steps); each
 * configuration is also run with the production budget (steps·B groups) to see whether the
 * run can finish ("exact budget"). Admission gets back the slot of a group the learner
 * dropped whole (stale or failed: the learner's KV admission_refunds); --no-refunds shows the
 * what-if without it: each such group shrinks the window of later admissions for the rest
 * of the run, and with the exact budget the learner never gets its last step's groups.
 *
 * Prints a table (steps per simulated hour and relative to η = 0, trainer and rollout idle
 * ratios, staleness mean / p95 / max, per-token version lag, share dropped as stale), the
 * staleness histograms, and a last line of JSON.
 *   node bench/dist/staleness-sim.js [--steps N] [--seed S] [--median SECONDS] [--sigma σ]
 *     [--learner-step SECONDS] [--weight-sync SECONDS] [--actors A] [--slots PER_ACTOR]
 *     [--no-refunds]   (what-if: admission keeps counting groups the learner dropped whole)
 */
import { argValue } from "@sluice/common";
import { SWE_LIKE, type SimConfig } from "./staleness-sim/config.js";
import { formatHistograms, formatTable, rowJson } from "./staleness-sim/report.js";
import { sweep } from "./staleness-sim/sweep.js";

function numberArg(name: string, fallback: number): number {
  const raw = argValue(process.argv, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${raw}`);
  return n;
}

const base: SimConfig = {
  ...SWE_LIKE,
  steps: numberArg("--steps", SWE_LIKE.steps),
  seed: numberArg("--seed", SWE_LIKE.seed),
  episode: {
    ...SWE_LIKE.episode,
    medianS: numberArg("--median", SWE_LIKE.episode.medianS),
    sigma: numberArg("--sigma", SWE_LIKE.episode.sigma),
  },
  learnerStepS: numberArg("--learner-step", SWE_LIKE.learnerStepS),
  weightSyncS: numberArg("--weight-sync", SWE_LIKE.weightSyncS),
  actors: numberArg("--actors", SWE_LIKE.actors),
  slotsPerActor: numberArg("--slots", SWE_LIKE.slotsPerActor),
  releaseDroppedGroups: !process.argv.includes("--no-refunds"),
};

const started = performance.now();
const rows = sweep(base);
const wallS = (performance.now() - started) / 1000;

const { episode: ep } = base;
console.log(
  `staleness-sim: ${base.steps} steps, seed ${base.seed}, G=${base.groupSize} B=${base.groupsPerStep}, ` +
    `${base.actors}×${base.slotsPerActor} slots, episode lognormal(median ${ep.medianS} s, σ ${ep.sigma}, cap ${ep.capS} s), ` +
    `${base.turnsPerEpisode} turns, ${base.generationShare * 100}% generating, learner ${base.learnerStepS} s/step, ` +
    `weight sync ${base.weightSyncS} s, resume ${base.resumeOverheadS} s` +
    (base.releaseDroppedGroups ? "" : ", no refunds of groups dropped whole (what-if)"),
);
console.log(formatTable(rows));
console.log("\nstaleness histograms (versions: trained samples)");
console.log(formatHistograms(rows));
const aimRow = rows.find((r) => r.eta === 4 && r.partialRollouts);
const aim = aimRow
  ? {
      relativeToSyncAtEta4Partial: Number(aimRow.relativeToSync.toFixed(3)),
      stalenessP95AtEta4Partial: aimRow.result.stalenessP95,
      met: aimRow.relativeToSync >= 2.5 && aimRow.result.stalenessP95 <= 4,
    }
  : undefined;
console.log(
  `\naim (η=4, partial on: ≥ 2.5× sync, staleness p95 ≤ η): ${aim ? `${aim.relativeToSyncAtEta4Partial}×, p95 ${aim.stalenessP95AtEta4Partial} → ${aim.met ? "met" : "not met"}` : "n/a"}; ran in ${wallS.toFixed(1)} s`,
);
console.log(
  JSON.stringify({
    bench: "staleness-sim",
    config: { ...base, maxStaleness: undefined, partialRollouts: undefined, admissionBudget: undefined },
    results: rows.map(rowJson),
    aim,
    wallS: Number(wallS.toFixed(2)),
  }),
);
