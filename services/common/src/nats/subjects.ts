/** Every NATS name of an experiment, in one place. `exp` must be a valid token. */
export interface ExperimentSubjects {
  traj: string;
  /** Final-evaluation trajectories (spec.evaluation); kept in the trajectory stream, never trained on. */
  eval: string;
  scored: string;
  annotRequest: string;
  annotResult: string;
  /** Request-reply: the reward service snapshots / restores ONI's label store (learner checkpoints). */
  oniSnapshot: string;
  oniRestore: string;
  events: string;
  trajStream: string;
  scoredStream: string;
  eventsStream: string;
  kvBucket: string;
  blobBucket: string;
}

const TOKEN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isValidExperimentName(name: string): boolean {
  return TOKEN.test(name);
}

export function experimentSubjects(exp: string): ExperimentSubjects {
  const up = exp.toUpperCase().replace(/-/g, "_");
  const low = exp.replace(/-/g, "_");
  return {
    traj: `sluice.${exp}.traj`,
    eval: `sluice.${exp}.eval`,
    scored: `sluice.${exp}.scored`,
    annotRequest: `sluice.${exp}.annot.req`,
    annotResult: `sluice.${exp}.annot.res`,
    oniSnapshot: `sluice.${exp}.oni.snapshot`,
    oniRestore: `sluice.${exp}.oni.restore`,
    events: `sluice.${exp}.events`,
    trajStream: `SLUICE_${up}_TRAJ`,
    scoredStream: `SLUICE_${up}_SCORED`,
    eventsStream: `SLUICE_${up}_EVENTS`,
    kvBucket: `sluice_${low}`,
    blobBucket: `sluice_${low}_blobs`,
  };
}

/** KV keys in the experiment bucket. */
export const KV_KEYS = {
  policy: "policy",
  control: "control",
  /**
   * Groups the learner dropped whole (every member stale or failed): JSON {"groups": n},
   * written by the learner only. Admission gives their slots back, so the run's
   * steps·B trainable groups are still produced (and η bounds what is in flight).
   */
  admissionRefunds: "admission_refunds",
} as const;

/** Message header naming an object-store blob that holds the real payload. */
export const BLOB_HEADER = "Sluice-Blob";
