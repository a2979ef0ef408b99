import {
  EVAL_TASK_OFFSET,
  contracts,
  errorMessage,
  passedTests,
  sleep,
  type ExperimentSpec,
  type KV,
  type Logger,
} from "@sluice/common";
import type { EventSink } from "./actor.js";
import type { BoundEnvironment } from "./environment.js";
import { EpisodeAbortedError } from "./errors.js";
import { episodeSeed, runEpisode } from "./episode-runner.js";
import type { ChatCompleter } from "./gateway-client.js";
import { readPolicy } from "./policy-reader.js";

const { FailureKind } = contracts;

export interface FinalEvaluationOptions {
  experiment: string;
  actorId: string;
  spec: ExperimentSpec;
  kv: KV;
  /** The evaluation environment (spec.evaluation.environment, else the training one). */
  env: BoundEnvironment;
  gateway: ChatCompleter;
  /** Publishes one evaluation trajectory (its id is the Nats-Msg-Id); false when it could not. */
  publish(t: contracts.Trajectory): Promise<boolean>;
  /** Called for each published sample (metrics). */
  onSample?(result: EvaluationResult): void;
  logger: Logger;
  events: EventSink;
  pollMs: number;
  now?: () => number;
}

/** A sample passed (score ≥ successThreshold), failed, or hit an infrastructure failure. */
export type EvaluationResult = "passed" | "failed" | "infra";

export function evaluationResult(t: contracts.Trajectory, successThreshold: number): EvaluationResult {
  if (t.failure !== FailureKind.FAILURE_KIND_NONE) return "infra";
  return passedTests(t, successThreshold) ? "passed" : "failed";
}

export interface EvaluationSummary {
  /** done: every task is claimed and this actor's are published; deadline: no final policy in time. */
  reason: "done" | "deadline" | "stopped";
  policyVersion: number;
  tasksRun: number;
  samplesPublished: number;
}

/** KV key claiming evaluation task k: one actor runs it, whichever creates the key first. */
export function evalClaimKey(k: number): string {
  return `eval.${k}`;
}

/** Group id of evaluation task k (trajectory ids `e<k>-<i>`), apart from training's `g<ordinal>`. */
export function evalGroupIdOf(k: number): string {
  return `e${k}`;
}

/**
 * The final evaluation (spec.evaluation): once the learner has published the policy of its
 * last step, sample `samplesPerTask` unguided attempts on each held-out task with it and
 * publish them on the eval subject, where no learner reads them. Actors share the work by
 * claiming tasks in KV. Waiting for the final policy is bounded by `deadlineMs`; missing it is
 * an error event, not a hang.
 */
export async function runFinalEvaluation(o: FinalEvaluationOptions, signal: AbortSignal): Promise<EvaluationSummary> {
  const { evaluation, rollout, steps } = o.spec;
  const now = o.now ?? Date.now;
  const deadline = now() + evaluation.deadlineMs;
  let policy: contracts.PolicyRecord | undefined;
  while (!signal.aborted) {
    policy = await readPolicy(o.kv).catch((err: unknown) => {
      o.logger.warn("policy read failed", { err: errorMessage(err) });
      return undefined;
    });
    if (policy !== undefined && policy.step >= steps) break;
    if (now() >= deadline) {
      await o.events.emit({
        kind: "evaluation_failed",
        severity: "error",
        message: `no policy of step ${steps} within ${evaluation.deadlineMs} ms (newest: step ${policy?.step ?? "none"}); final evaluation skipped`,
        attributes: { actorId: o.actorId },
      });
      return { reason: "deadline", policyVersion: policy?.version ?? -1, tasksRun: 0, samplesPublished: 0 };
    }
    await sleep(o.pollMs, signal).catch(() => undefined);
  }
  if (signal.aborted || policy === undefined) {
    return { reason: "stopped", policyVersion: policy?.version ?? -1, tasksRun: 0, samplesPublished: 0 };
  }
  const version = policy.version;
  const n = evaluation.samplesPerTask;
  const parallelTasks = Math.max(1, Math.floor(rollout.maxConcurrentEpisodes / n));
  let next = 0;
  let tasksRun = 0;
  let samplesPublished = 0;

  const runTask = async (k: number): Promise<void> => {
    const index = EVAL_TASK_OFFSET + k;
    const task = o.env.taskSource.at(index);
    const groupId = evalGroupIdOf(k);
    const attempts = Array.from({ length: n }, async (_, i) => {
      const t = await runEpisode(
        {
          experiment: o.experiment,
          actorId: o.actorId,
          groupId,
          groupSize: n,
          indexInGroup: i,
          task,
          environment: o.env,
          admittedPolicyVersion: version,
          maxTurns: rollout.maxTurns,
          episodeTimeoutMs: rollout.episodeTimeoutMs,
          sampling: { ...rollout.sampling, interruptible: false },
          seed: rollout.sampling.seeded ? episodeSeed(o.spec.seed, index, i) : 0,
        },
        { gateway: o.gateway, logger: o.logger, signal },
      );
      if (await o.publish(t)) {
        samplesPublished++;
        o.onSample?.(evaluationResult(t, evaluation.successThreshold));
      }
    });
    const results = await Promise.allSettled(attempts);
    for (const r of results) {
      if (r.status === "rejected" && !(r.reason instanceof EpisodeAbortedError)) {
        o.logger.error("evaluation episode crashed", { groupId, err: errorMessage(r.reason) });
      }
    }
    tasksRun++;
  };

  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < evaluation.tasks) {
      const k = next++;
      try {
        await o.kv.create(evalClaimKey(k), new TextEncoder().encode(o.actorId));
      } catch {
        continue; // another actor claimed it
      }
      await runTask(k);
    }
  };
  await Promise.all(Array.from({ length: parallelTasks }, () => worker()));
  const summary: EvaluationSummary = {
    reason: signal.aborted ? "stopped" : "done",
    policyVersion: version,
    tasksRun,
    samplesPublished,
  };
  o.logger.info("final evaluation finished", { ...summary });
  await o.events.emit({
    kind: "evaluation_finished",
    message: `${tasksRun} tasks, ${samplesPublished} samples of policy v${version}`,
    attributes: { actorId: o.actorId },
    values: { tasks: tasksRun, samples: samplesPublished, policy_version: version },
  });
  return summary;
}
