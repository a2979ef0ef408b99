import { writeFileSync } from "node:fs";
import {
  contracts,
  experimentSubjects,
  passedTests,
  sleep,
  unguidedTranscript,
  type EvaluationConfig,
  type NatsHandles,
} from "@sluice/common";
import { failureName } from "./episode-stats.js";
import { readSubject, subjectMessages } from "./stream-reader.js";

const { FailureKind } = contracts;

/** One line of eval-samples.jsonl: the fields of guided-data.jsonl that `sluice eval` reads. */
export interface EvaluationSample {
  task_id: string;
  trajectory_id: string;
  group_id: string;
  guidance_round: 0;
  passed: boolean;
  score: number;
  /** Infrastructure failure (never a candidate): the failure kind, else "". */
  failure: string;
  policy_version: number;
  text: string;
}

/** summary.json `evaluation`. */
export interface EvaluationReport {
  tasks: number;
  samples_per_task: number;
  samples: number;
  expected_samples: number;
  /** Policy versions the samples were drawn with (one, unless a restart moved it). */
  policy_versions: number[];
  /** mean over tasks of the share of its valid samples that passed: the pass@1 of one random sample. */
  pass_at_1: number;
  /** share of tasks with at least one passing sample. */
  pass_at_n: number;
  /** False when samples are missing (an actor died mid-task, or the deadline passed). */
  complete: boolean;
  file: string;
}

export function evaluationSample(t: contracts.Trajectory, successThreshold: number): EvaluationSample {
  const valid = t.failure === FailureKind.FAILURE_KIND_NONE;
  return {
    task_id: t.taskId,
    trajectory_id: t.trajectoryId,
    group_id: t.groupId,
    guidance_round: 0,
    passed: passedTests(t, successThreshold),
    score: t.outcome?.score ?? 0,
    failure: valid ? "" : failureName(t.failure),
    policy_version: t.admittedPolicyVersion,
    text: unguidedTranscript(t),
  };
}

/** pass@1 and pass@N over tasks; samples with an infrastructure failure are left out. */
export function passRates(samples: readonly EvaluationSample[]): { passAt1: number; passAtN: number; tasks: number } {
  const byTask = new Map<string, boolean[]>();
  for (const s of samples) {
    if (s.failure) continue;
    const g = byTask.get(s.group_id) ?? [];
    g.push(s.passed);
    byTask.set(s.group_id, g);
  }
  let at1 = 0;
  let atN = 0;
  for (const g of byTask.values()) {
    at1 += g.filter(Boolean).length / g.length;
    atN += g.some(Boolean) ? 1 : 0;
  }
  const k = Math.max(1, byTask.size);
  return { passAt1: at1 / k, passAtN: atN / k, tasks: byTask.size };
}

/**
 * Waits until the eval subject holds `expected` samples, every actor has said it is done
 * (`actorsDone`: their evaluation_finished / evaluation_failed events), the deadline passes
 * or `signal` aborts; returns how many samples it holds.
 */
export async function waitForEvaluationSamples(
  nats: NatsHandles,
  experiment: string,
  o: { expected: number; deadlineMs: number; actorsDone: () => boolean; signal: AbortSignal; pollMs?: number },
): Promise<number> {
  const names = experimentSubjects(experiment);
  const deadline = Date.now() + o.deadlineMs;
  for (;;) {
    // Read the flag first: samples published before an actor's final event are then counted.
    const done = o.actorsDone();
    const have = await subjectMessages(nats, names.trajStream, names.eval, 5_000);
    if (have >= o.expected || done || Date.now() >= deadline || o.signal.aborted) return have;
    await sleep(o.pollMs ?? 1_000, o.signal).catch(() => undefined);
  }
}

/** Reads the eval subject, writes `path` (JSONL, one sample per line) and returns the report. */
export async function exportEvaluationSamples(
  nats: NatsHandles,
  experiment: string,
  evaluation: EvaluationConfig,
  path: string,
  timeoutMs: number,
): Promise<EvaluationReport> {
  const names = experimentSubjects(experiment);
  const samples: EvaluationSample[] = [];
  let undecodable = 0;
  const read = await readSubject(
    nats,
    { stream: names.trajStream, subject: names.eval, blobBucket: names.blobBucket, timeoutMs },
    (data) => {
      try {
        samples.push(evaluationSample(contracts.Trajectory.decode(data), evaluation.successThreshold));
      } catch {
        undecodable++;
      }
    },
  );
  samples.sort((a, b) => a.trajectory_id.localeCompare(b.trajectory_id, "en", { numeric: true }));
  writeFileSync(path, samples.map((s) => JSON.stringify(s)).join("\n") + (samples.length > 0 ? "\n" : ""));
  const rates = passRates(samples);
  const expected = evaluation.tasks * evaluation.samplesPerTask;
  return {
    tasks: rates.tasks,
    samples_per_task: evaluation.samplesPerTask,
    samples: samples.length,
    expected_samples: expected,
    policy_versions: [...new Set(samples.map((s) => s.policy_version))].sort((a, b) => a - b),
    pass_at_1: rates.passAt1,
    pass_at_n: rates.passAtN,
    complete: read.complete && undecodable === 0 && read.unreadable === 0 && samples.length >= expected,
    file: path,
  };
}

/**
 * `sluice up`'s side of spec.evaluation, after the learner's last step: wait for the actors'
 * samples (bounded by evaluation.deadlineMs, or until every actor reported its end), write
 * them to `path` and report. Missing samples are reported, not waited on forever.
 */
export async function runFinalEvaluationPhase(
  nats: NatsHandles,
  o: {
    experiment: string;
    evaluation: EvaluationConfig;
    path: string;
    readTimeoutMs: number;
    actorsDone: () => boolean;
    signal: AbortSignal;
    note: (line: string) => void;
  },
): Promise<EvaluationReport> {
  const { evaluation } = o;
  const expected = evaluation.tasks * evaluation.samplesPerTask;
  o.note(`sluice: final evaluation: ${evaluation.tasks} tasks × ${evaluation.samplesPerTask} samples`);
  const have = await waitForEvaluationSamples(nats, o.experiment, {
    expected,
    deadlineMs: evaluation.deadlineMs,
    actorsDone: o.actorsDone,
    signal: o.signal,
  });
  const report = await exportEvaluationSamples(nats, o.experiment, evaluation, o.path, o.readTimeoutMs);
  if (!report.complete) o.note(`sluice: final evaluation incomplete: ${have} of ${expected} samples`);
  o.note(
    `sluice: final evaluation of v${report.policy_versions.join(",v")}: pass@1 ${report.pass_at_1.toFixed(3)}, ` +
      `pass@${evaluation.samplesPerTask} ${report.pass_at_n.toFixed(3)} over ${report.tasks} tasks; ${o.path}`,
  );
  return report;
}
