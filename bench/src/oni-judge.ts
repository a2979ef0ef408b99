/**
 * ONI judge benchmark: does a slow judge slow down actors or the learner? Runs the toy
 * example with G-RA and ONI (examples/toy-oni-gra.yaml) through `sluice up` twice in one
 * invocation for the same number of steps — ONI off, then ONI on with a local OpenAI-API judge
 * that takes `--delay-ms` per request (chat mode: one request per item, a batch's requests in
 * parallel, so about that long per batch) — and prints actor throughput (trajectories/s) and
 * learner throughput (steps/s) of both and their ratios (on / off; 1.0 = no slowdown).
 * Throughput is timed from NATS events (trajectory publishes, policy-version publishes) between
 * the first and the last learner step, so process start-up and the first step are left out.
 * Prints figures and a last line of JSON.
 * `--c-int 0` keeps the annotator, judge and label store running but gives the intrinsic reward
 * no weight, so what is trained is the same as with ONI off: it separates the annotation
 * machinery's cost from the effect of a different reward on what the learner trains.
 *   node bench/dist/oni-judge.js [--steps N] [--delay-ms D] [--rounds R] [--c-int C] [--spec FILE]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import {
  REPO_ROOT,
  SluiceError,
  argValue,
  connectNats,
  contracts,
  errorMessage,
  experimentSubjects,
  sleep,
  type NatsHandles,
  type RuntimeConfig,
} from "@sluice/common";
import { runSluice } from "@sluice/common/internal";
import { startLocalJudge, type LocalJudge } from "@sluice/reward/internal";

const steps = Number(argValue(process.argv, "--steps") ?? 8);
const delayMs = Number(argValue(process.argv, "--delay-ms") ?? 2_000);
const rounds = Number(argValue(process.argv, "--rounds") ?? 1);
const cIntArg = argValue(process.argv, "--c-int");
const cInt = cIntArg === undefined ? undefined : Number(cIntArg);
const specFile = resolve(REPO_ROOT, argValue(process.argv, "--spec") ?? "examples/toy-oni-gra.yaml");
/** Deadline of one `sluice up` run; it gets SIGINT after this. */
const RUN_DEADLINE_MS = Number(argValue(process.argv, "--run-deadline-ms") ?? 15 * 60_000);
const RUNTIME_FILE_DEADLINE_MS = 60_000;
const NATS_CONNECT_DEADLINE_MS = 30_000;

/** A benchmark run that could not be measured. */
class BenchError extends SluiceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { context });
    this.name = "BenchError";
  }
}

interface RunFigures {
  oni: boolean;
  steps: number;
  /** Seconds between the first and the last learner step (policy versions 1 and N). */
  windowSeconds: number;
  actorTrajPerSecond: number;
  learnerStepsPerSecond: number;
  wallSeconds: number;
  judgeRequests: number;
  labelsStored: number;
  parseFailures: number;
  annotationQueueDepth: number;
}

interface Summary {
  exit: string;
  steps: number;
  wall_seconds: number;
  reward_metrics?: Record<string, number>;
}

/** Writes the spec with ONI on or off (and, when on, the judge at `judgeUrl`). */
function writeSpec(dir: string, oni: boolean, judgeUrl: string | undefined): string {
  const doc = parse(readFileSync(specFile, "utf8")) as {
    spec: { reward: { oni?: { enabled?: boolean; cInt?: number; judge?: { baseUrl?: string; model?: string } } } };
  };
  const o = doc.spec.reward.oni ?? {};
  o.enabled = oni;
  if (cInt !== undefined) o.cInt = cInt;
  if (judgeUrl !== undefined) o.judge = { ...o.judge, baseUrl: judgeUrl };
  doc.spec.reward.oni = o;
  const path = join(dir, `spec-${oni ? "oni" : "off"}.yaml`);
  writeFileSync(path, stringify(doc));
  return path;
}

/** Waits for runtime.json, connects to the run's nats-server; undefined if `stop` fires first. */
async function connectToRun(
  runDir: string,
  stop: AbortSignal,
): Promise<{ nats: NatsHandles; exp: string } | undefined> {
  const path = join(runDir, "runtime.json");
  const fileDeadline = Date.now() + RUNTIME_FILE_DEADLINE_MS;
  while (!existsSync(path)) {
    if (stop.aborted) return undefined;
    if (Date.now() > fileDeadline) throw new BenchError(`${path} not written in time`, { RUNTIME_FILE_DEADLINE_MS });
    await sleep(100);
  }
  const runtime = JSON.parse(readFileSync(path, "utf8")) as RuntimeConfig;
  const deadline = Date.now() + NATS_CONNECT_DEADLINE_MS;
  for (;;) {
    if (stop.aborted) return undefined;
    try {
      return { nats: await connectNats(runtime.natsUrl, "bench-oni-judge", 1_000), exp: runtime.experiment };
    } catch (err) {
      if (Date.now() > deadline) {
        throw new BenchError(`cannot reach ${runtime.natsUrl}: ${errorMessage(err)}`, { NATS_CONNECT_DEADLINE_MS });
      }
      await sleep(100);
    }
  }
}

/** Sum of the series named `name` in summary.reward_metrics (labels ignored). */
function metricSum(m: Record<string, number> | undefined, name: string, labels = ""): number {
  return Object.entries(m ?? {})
    .filter(([series]) => series.split("{")[0] === name && series.includes(labels))
    .reduce((a, [, v]) => a + v, 0);
}

async function runOnce(oni: boolean, judge: LocalJudge | undefined): Promise<RunFigures> {
  const specDir = mkdtempSync(join(tmpdir(), "sluice-bench-oni-spec-"));
  const runDir = mkdtempSync(join(tmpdir(), "sluice-bench-oni-run-"));
  const spec = writeSpec(specDir, oni, judge?.baseUrl);
  const trajTimes: number[] = [];
  const versionTimes = new Map<number, number>();
  const stop = new AbortController();
  const follow = (async (): Promise<NatsHandles | undefined> => {
    const run = await connectToRun(runDir, stop.signal);
    if (!run) return undefined;
    const s = experimentSubjects(run.exp);
    const trajSub = run.nats.nc.subscribe(s.traj);
    const policySub = run.nats.nc.subscribe(`$KV.${s.kvBucket}.policy`);
    void (async () => {
      for await (const _m of trajSub) trajTimes.push(performance.now());
    })();
    void (async () => {
      for await (const m of policySub) {
        if (m.data.length === 0) continue;
        const v = contracts.PolicyRecord.decode(m.data).version;
        if (!versionTimes.has(v)) versionTimes.set(v, performance.now());
      }
    })();
    return run.nats;
  })();
  const requestsBefore = judge?.requests ?? 0;
  let result: { code: number | null; output: string };
  try {
    result = await runSluice(["up", "-f", spec, "--run-dir", runDir, "--steps", String(steps)], RUN_DEADLINE_MS);
  } finally {
    stop.abort();
    const nats = await follow.catch((err: unknown) => {
      process.stderr.write(`bench: following the run failed: ${errorMessage(err)}\n`);
      return undefined;
    });
    await nats?.close().catch(() => undefined);
  }
  if (result.code !== 0) {
    throw new BenchError(
      `sluice up (oni ${oni ? "on" : "off"}) exited ${result.code}:\n${result.output.slice(-3000)}`,
      {
        runDir,
      },
    );
  }
  const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Summary;
  const t1 = versionTimes.get(1);
  const tN = versionTimes.get(steps);
  if (t1 === undefined || tN === undefined || steps < 2) {
    throw new BenchError(`policy versions 1 and ${steps} not both seen (need --steps >= 2)`, {
      seen: [...versionTimes.keys()],
      runDir,
    });
  }
  const windowSeconds = (tN - t1) / 1000;
  const trajInWindow = trajTimes.filter((t) => t > t1 && t <= tN).length;
  const m = summary.reward_metrics;
  const figures: RunFigures = {
    oni,
    steps: summary.steps,
    windowSeconds,
    actorTrajPerSecond: trajInWindow / windowSeconds,
    learnerStepsPerSecond: (steps - 1) / windowSeconds,
    wallSeconds: summary.wall_seconds,
    judgeRequests: (judge?.requests ?? 0) - requestsBefore,
    labelsStored: metricSum(m, "sluice_oni_labels_stored_total"),
    parseFailures: metricSum(m, "sluice_oni_parse_failures_total"),
    annotationQueueDepth: metricSum(m, "sluice_oni_annotation_queue_depth"),
  };
  if (oni && figures.judgeRequests === 0) throw new BenchError("ONI on, but the judge was never asked", { runDir });
  rmSync(specDir, { recursive: true, force: true });
  rmSync(runDir, { recursive: true, force: true });
  return figures;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function line(f: RunFigures): string {
  const judge = f.oni
    ? `; judge requests ${f.judgeRequests}, labels stored ${f.labelsStored}, queue at end ${f.annotationQueueDepth}`
    : "";
  return (
    `  oni ${f.oni ? "on " : "off"}: actor ${f.actorTrajPerSecond.toFixed(2)} traj/s, learner ` +
    `${f.learnerStepsPerSecond.toFixed(4)} steps/s over ${f.windowSeconds.toFixed(1)} s (wall ${f.wallSeconds.toFixed(1)} s)${judge}`
  );
}

async function main(): Promise<void> {
  const judge = await startLocalJudge({ delayMs, answer: (p) => (p.length % 2 === 0 ? "Answer: 1" : "Answer: 0") });
  const off: RunFigures[] = [];
  const on: RunFigures[] = [];
  try {
    console.log(
      `oni-judge: ${specFile}, ${steps} steps per run, judge delay ${delayMs} ms per request, ${rounds} round(s)` +
        (cInt === undefined ? "" : `, c_int ${cInt}`),
    );
    for (let r = 0; r < rounds; r++) {
      off.push(await runOnce(false, undefined));
      console.log(line(off[off.length - 1]!));
      on.push(await runOnce(true, judge));
      console.log(line(on[on.length - 1]!));
    }
  } finally {
    await judge.close();
  }
  const actorOff = mean(off.map((f) => f.actorTrajPerSecond));
  const actorOn = mean(on.map((f) => f.actorTrajPerSecond));
  const learnerOff = mean(off.map((f) => f.learnerStepsPerSecond));
  const learnerOn = mean(on.map((f) => f.learnerStepsPerSecond));
  const actorRatio = actorOn / actorOff;
  const learnerRatio = learnerOn / learnerOff;
  console.log(
    `actor throughput  : off ${actorOff.toFixed(2)} traj/s, on ${actorOn.toFixed(2)} traj/s, ratio ${actorRatio.toFixed(3)}`,
  );
  console.log(
    `learner throughput: off ${learnerOff.toFixed(4)} steps/s, on ${learnerOn.toFixed(4)} steps/s, ratio ${learnerRatio.toFixed(3)}`,
  );
  console.log(
    `within 5%: ${Math.abs(1 - actorRatio) <= 0.05 && Math.abs(1 - learnerRatio) <= 0.05 ? "yes" : "no"} ` +
      `(a shared machine adds noise of its own; compare rounds with --rounds)`,
  );
  console.log(
    JSON.stringify({
      bench: "oni-judge",
      steps,
      delay_ms: delayMs,
      c_int: cInt ?? null,
      rounds,
      actor_traj_per_s_off: actorOff,
      actor_traj_per_s_on: actorOn,
      actor_ratio: actorRatio,
      learner_steps_per_s_off: learnerOff,
      learner_steps_per_s_on: learnerOn,
      learner_ratio: learnerRatio,
      judge_requests: on.reduce((a, f) => a + f.judgeRequests, 0),
      labels_stored: on.reduce((a, f) => a + f.labelsStored, 0),
      runs: [...off, ...on],
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`oni-judge: ${errorMessage(err)}\n`);
  process.exit(1);
});
