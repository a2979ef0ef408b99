import type { RLExperimentSpec, RLExperimentStatus } from "@sluice/common";

/** What the learner last published: the KV record `policy` of the experiment's bucket. */
export interface PublishedPolicy {
  step: number;
  policyVersion: number;
  publishedAtMs: number;
}

/**
 * Where progress comes from. The production source reads the learner's `policy` record in the
 * experiment's NATS KV bucket rather than scraping the learner's /metrics: the record outlives
 * the learner pod (it reads the same while the Job is suspended, restarting or finished), it is
 * what the rest of the system treats as the truth (the gateway serves it, actors admit by it),
 * and the operator already talks to NATS for the streams, so no extra network path is needed.
 */
export interface ProgressSource {
  read(experiment: string): Promise<PublishedPolicy | undefined>;
}

export type Progress = NonNullable<RLExperimentStatus["progress"]>;

/**
 * The progress block from a published record. The learner checkpoints at every
 * `learner.checkpointEvery`-th step and at the last step, before publishing that step's policy,
 * so the last checkpoint's step follows from the published step; its time is the publication
 * time of the first record seen at or past it (at most one step late).
 */
export function progressFrom(
  prev: Progress | undefined,
  record: PublishedPolicy,
  spec: Pick<RLExperimentSpec, "steps" | "learner">,
  nowIso: string,
): Progress {
  const every = spec.learner.checkpointEvery;
  const ckptStep = every > 0 ? Math.floor(record.step / every) * every : record.step >= spec.steps ? record.step : 0;
  let lastCheckpoint = prev?.lastCheckpoint;
  if (ckptStep > 0 && ckptStep !== lastCheckpoint?.step) {
    lastCheckpoint = { step: ckptStep, time: new Date(record.publishedAtMs).toISOString() };
  }
  return {
    step: record.step,
    policyVersion: record.policyVersion,
    ...(lastCheckpoint ? { lastCheckpoint } : {}),
    updatedAt: nowIso,
  };
}

/** Whether the progress block may be refreshed now (at most every `intervalMs`). */
export function progressDue(prev: Progress | undefined, nowMs: number, intervalMs: number): boolean {
  if (!prev?.updatedAt) return true;
  return nowMs - Date.parse(prev.updatedAt) >= intervalMs;
}
