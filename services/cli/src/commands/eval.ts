import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  GrpcRewardModelClient,
  contracts,
  errorMessage,
  mixSeed,
  mulberry32,
  shuffled,
  type RewardModelApi,
} from "@sluice/common";
import { startEngine, type EngineProcess } from "@sluice/common/internal";

/**
 * `sluice eval`: Agent-RLVR's test-time reward model (Da et al., arXiv 2506.11425, §3.4). An
 * outcome reward model (classification, hosted by the engine) is trained on the
 * guidance-augmented data a guided run exported (`<runDir>/guided-data.jsonl`, written by the
 * learner: guided re-attempts included, their guidance cut out of the text), and picks one of
 * N candidates per task. The candidates are, with `--candidates`, the final evaluation's fresh
 * samples of the trained policy on held-out tasks (`<runDir>/eval-samples.jsonl`,
 * spec.evaluation); without it, the tasks of the data are split in two (seeded) and the RM
 * picks among each held-out group's unguided first attempts. Reported: pass@1 of the RM's pick
 * against a random pick of N (the mean pass rate) and the oracle (any of N passed).
 */
export const EVAL_USAGE = `usage: sluice eval --data FILE [--candidates FILE] [--n N] [--test-frac F] [--steps S] [--batch B] [--seed S] [--engine HOST:PORT] [--json]
  --data        guided-data.jsonl from a guided run (learner, spec.guidance.enabled): the RM's training data
  --candidates  eval-samples.jsonl from the run's final evaluation (spec.evaluation): N fresh samples per
                held-out task; without it, the data's tasks are split and their first attempts are the candidates
  --n           candidates per task (at most N); default 4
  --test-frac   without --candidates: share of tasks held out for selection; default 0.5
  --steps       reward-model training steps; default 2000
  --batch       examples per step; default 64
  --seed        split, batching and model seed; default 0
  --engine      a running engine's gRPC address; default: start the tiny CPU engine
`;

/** One line of guided-data.jsonl (services/learner/src/guided-export.ts). */
export interface EvalRecord {
  task_id: string;
  trajectory_id: string;
  group_id: string;
  guidance_round: number;
  passed: boolean;
  text: string;
  /** eval-samples.jsonl: an infrastructure failure (never a candidate); "" or absent otherwise. */
  failure?: string;
}

export interface BestOfNReport {
  trainTasks: number;
  testTasks: number;
  trainExamples: number;
  trainPositives: number;
  /** Held-out groups with at least two candidates. */
  groups: number;
  n: number;
  passAt1Rm: number;
  passAt1Random: number;
  passAtNOracle: number;
  /** Classification accuracy of the RM on every held-out candidate. */
  rmAccuracy: number;
  finalTrainLoss: number;
}

export function parseRecords(text: string, file: string): EvalRecord[] {
  const seen = new Set<string>();
  const out: EvalRecord[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let r: Partial<EvalRecord>;
    try {
      r = JSON.parse(line) as Partial<EvalRecord>;
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON: ${errorMessage(err)}`);
    }
    if (typeof r.task_id !== "string" || typeof r.trajectory_id !== "string" || typeof r.passed !== "boolean") {
      throw new Error(`${file}:${i + 1}: needs task_id, trajectory_id and passed`);
    }
    // A restarted learner may repeat lines: one record per trajectory.
    if (seen.has(r.trajectory_id)) return;
    seen.add(r.trajectory_id);
    out.push({
      task_id: r.task_id,
      trajectory_id: r.trajectory_id,
      group_id: r.group_id ?? r.task_id,
      guidance_round: r.guidance_round ?? 0,
      passed: r.passed,
      text: r.text ?? "",
      ...(typeof r.failure === "string" && r.failure !== "" ? { failure: r.failure } : {}),
    });
  });
  return out;
}

/** Seeded task split: the first ⌈f·T⌉ of the shuffled task ids are held out. */
export function splitTasks(records: readonly EvalRecord[], testFrac: number, seed: number) {
  const tasks = shuffled([...new Set(records.map((r) => r.task_id))].sort(), mulberry32(seed));
  const test = new Set(tasks.slice(0, Math.ceil(tasks.length * testFrac)));
  return {
    train: records.filter((r) => !test.has(r.task_id)),
    test: records.filter((r) => test.has(r.task_id)),
    trainTasks: tasks.length - test.size,
    testTasks: test.size,
  };
}

/** Training data and the candidates given: a task among the candidates never trains the RM. */
export function givenCandidates(records: readonly EvalRecord[], candidates: readonly EvalRecord[]) {
  const test = new Set(candidates.map((r) => r.task_id));
  const train = records.filter((r) => !test.has(r.task_id));
  return {
    train,
    test: candidates,
    trainTasks: new Set(train.map((r) => r.task_id)).size,
    testTasks: test.size,
  };
}

/** Candidate sets: each group's unguided attempts without infrastructure failure, at most n, in id order. */
export function candidateGroups(test: readonly EvalRecord[], n: number): EvalRecord[][] {
  const byGroup = new Map<string, EvalRecord[]>();
  for (const r of test) {
    if (r.guidance_round !== 0 || r.failure !== undefined) continue;
    const g = byGroup.get(r.group_id) ?? [];
    g.push(r);
    byGroup.set(r.group_id, g);
  }
  return [...byGroup.values()]
    .map((g) => g.sort((a, b) => (a.trajectory_id < b.trajectory_id ? -1 : 1)).slice(0, n))
    .filter((g) => g.length >= 2);
}

/**
 * Best-of-N selection figures for groups with scores:
 *   pass@1(RM)     = mean_g passed(argmax_i score_g,i)     (ties: the first)
 *   pass@1(random) = mean_g mean_i passed_g,i              (expected pass of a uniform pick)
 *   pass@N(oracle) = mean_g max_i passed_g,i
 */
export function bestOfN(groups: readonly { passed: boolean; score: number }[][]) {
  let rm = 0;
  let random = 0;
  let oracle = 0;
  for (const g of groups) {
    let best = 0;
    g.forEach((c, i) => {
      if (c.score > g[best]!.score) best = i;
    });
    rm += g[best]!.passed ? 1 : 0;
    random += g.filter((c) => c.passed).length / g.length;
    oracle += g.some((c) => c.passed) ? 1 : 0;
  }
  const k = Math.max(1, groups.length);
  return { passAt1Rm: rm / k, passAt1Random: random / k, passAtNOracle: oracle / k };
}

export interface EvalOptions {
  n: number;
  testFrac: number;
  steps: number;
  batch: number;
  seed: number;
}

/**
 * Trains the outcome RM and scores the candidates: those given (every record of the data
 * trains; records of a candidate task, if any, are left out), or else the held-out split's.
 */
export async function evaluateBestOfN(
  rm: Pick<RewardModelApi, "create" | "train" | "score">,
  records: readonly EvalRecord[],
  o: EvalOptions,
  candidates?: readonly EvalRecord[],
): Promise<BestOfNReport> {
  const split = candidates ? givenCandidates(records, candidates) : splitTasks(records, o.testFrac, o.seed);
  if (split.train.length === 0) throw new Error("no training records: lower --test-frac or export more data");
  const name = `outcome-rm-${o.seed}`;
  await rm.create({
    name,
    kind: contracts.RewardModelKind.REWARD_MODEL_KIND_CLASSIFICATION,
    seed: o.seed,
    replace: true,
    optimizer: { learningRate: 1e-3, weightDecay: 0, maxGradNorm: 1 },
  });
  // Positives are rare early in training: batches are balanced so the RM cannot learn "always fail".
  const pos = split.train.filter((r) => r.passed);
  const neg = split.train.filter((r) => !r.passed);
  const random = mulberry32(mixSeed(o.seed, 1));
  const pick = (from: readonly EvalRecord[]): EvalRecord => from[Math.floor(random() * from.length)]!;
  let finalTrainLoss = 0;
  for (let step = 0; step < o.steps; step++) {
    const batch = Array.from({ length: o.batch }, (_, i) =>
      pos.length > 0 && (neg.length === 0 || i % 2 === 0) ? pick(pos) : pick(neg),
    );
    const res = await rm.train({ name, examples: batch.map((r) => ({ text: r.text, label: r.passed ? 1 : 0 })) });
    finalTrainLoss = res.loss;
  }
  const groups = candidateGroups(split.test, o.n);
  const flat = groups.flat();
  const scores =
    flat.length > 0
      ? (
          await rm.score(
            name,
            flat.map((r) => r.text),
          )
        ).scores
      : [];
  let k = 0;
  const scored = groups.map((g) => g.map((r) => ({ passed: r.passed, score: scores[k++] ?? 0 })));
  const correct = scored.flat().filter((c) => c.score > 0 === c.passed).length;
  return {
    trainTasks: split.trainTasks,
    testTasks: split.testTasks,
    trainExamples: split.train.length,
    trainPositives: pos.length,
    groups: groups.length,
    n: o.n,
    ...bestOfN(scored),
    rmAccuracy: flat.length > 0 ? correct / flat.length : 0,
    finalTrainLoss,
  };
}

export async function runEval(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      data: { type: "string" },
      candidates: { type: "string" },
      n: { type: "string", default: "4" },
      "test-frac": { type: "string", default: "0.5" },
      steps: { type: "string", default: "2000" },
      batch: { type: "string", default: "64" },
      seed: { type: "string", default: "0" },
      engine: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help || !values.data) {
    (values.help ? process.stdout : process.stderr).write(EVAL_USAGE);
    return values.help ? 0 : 2;
  }
  const num = (flag: string, v: string, min: number, max: number): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max) throw new Error(`--${flag} must be a number in [${min}, ${max}]`);
    return x;
  };
  const options: EvalOptions = {
    n: Math.floor(num("n", values.n, 2, 1024)),
    testFrac: num("test-frac", values["test-frac"], 0.01, 0.99),
    steps: Math.floor(num("steps", values.steps, 1, 100_000)),
    batch: Math.floor(num("batch", values.batch, 1, 4096)),
    seed: Math.floor(num("seed", values.seed, 0, 2 ** 31)),
  };
  const records = parseRecords(readFileSync(values.data, "utf8"), values.data);
  const candidates =
    values.candidates !== undefined
      ? parseRecords(readFileSync(values.candidates, "utf8"), values.candidates)
      : undefined;
  let engine: EngineProcess | undefined;
  try {
    const address = values.engine ?? `127.0.0.1:${(engine = await startEngine()).port}`;
    const report = await evaluateBestOfN(new GrpcRewardModelClient(address), records, options, candidates);
    if (!values.json) {
      process.stdout.write(
        `tasks: ${report.trainTasks} train / ${report.testTasks} ${candidates ? "evaluated (--candidates)" : "held out"}; RM trained on ${report.trainExamples} records (${report.trainPositives} passed), final loss ${report.finalTrainLoss.toFixed(3)}\n` +
          `candidate groups: ${report.groups} (best of ${report.n}); RM accuracy ${report.rmAccuracy.toFixed(3)}\n` +
          `pass@1 RM-selected ${report.passAt1Rm.toFixed(3)}  random-of-N ${report.passAt1Random.toFixed(3)}  oracle pass@N ${report.passAtNOracle.toFixed(3)}\n`,
      );
    }
    process.stdout.write(JSON.stringify(report) + "\n");
    return 0;
  } finally {
    await engine?.stop();
  }
}
