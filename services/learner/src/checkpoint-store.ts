import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ValidationError } from "@sluice/common";

export const CHECKPOINT_FORMAT = "sluice-learner-checkpoint/1";
/** Written last, by rename: a directory without it is an interrupted checkpoint. */
export const CHECKPOINT_RECORD = "learner.json";

/**
 * The learner's accounting at a checkpoint; with the engine's weights and optimizer state
 * saved in the same directory it is everything a restart needs for exactly-once training.
 */
export interface CheckpointRecord {
  format: typeof CHECKPOINT_FORMAT;
  step: number;
  policy_version: number;
  trajectories_trained: number;
  trajectories_dropped: Record<string, number>;
  reward_mean_by_step: number[];
  completion_rate_by_step: number[];
  /** Every trajectory id consumed (trained or dropped) up to this checkpoint. */
  consumed_ids: string[];
  /** The JetStream stream sequence each of them was consumed from (same order). */
  consumed_seqs: number[];
  /** Groups dropped whole so far (admission refunds); absent in older records = 0. */
  refunded_groups?: number;
  /** ONI label-store snapshot next to the weights, when the run has one (file name). */
  label_snapshot?: string;
}

export function checkpointDir(runDir: string, step: number): string {
  return join(runDir, "checkpoints", `step-${step}`);
}

/** Writes the record atomically (temp file, then rename) into an existing checkpoint dir. */
export function writeCheckpointRecord(dir: string, record: CheckpointRecord): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${CHECKPOINT_RECORD}.tmp`);
  writeFileSync(tmp, JSON.stringify(record) + "\n");
  renameSync(tmp, join(dir, CHECKPOINT_RECORD));
}

function isRecord(x: unknown): x is CheckpointRecord {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    r.format === CHECKPOINT_FORMAT &&
    Number.isInteger(r.step) &&
    Number.isInteger(r.policy_version) &&
    Number.isInteger(r.trajectories_trained) &&
    typeof r.trajectories_dropped === "object" &&
    r.trajectories_dropped !== null &&
    Array.isArray(r.reward_mean_by_step) &&
    Array.isArray(r.completion_rate_by_step) &&
    Array.isArray(r.consumed_ids) &&
    r.consumed_ids.every((id) => typeof id === "string") &&
    Array.isArray(r.consumed_seqs) &&
    r.consumed_seqs.length === r.consumed_ids.length &&
    r.consumed_seqs.every((q) => Number.isInteger(q))
  );
}

export function readCheckpointRecord(dir: string): CheckpointRecord {
  const path = join(dir, CHECKPOINT_RECORD);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new ValidationError(`checkpoint ${path}: not readable JSON`, { cause, context: { path } });
  }
  if (!isRecord(parsed)) {
    throw new ValidationError(`checkpoint ${path}: not a ${CHECKPOINT_FORMAT} record`, { context: { path } });
  }
  return parsed;
}

export interface FoundCheckpoint {
  dir: string;
  record: CheckpointRecord;
}

/**
 * The newest complete checkpoint under runDir/checkpoints (by step), or undefined. A
 * directory without a record (a crash mid-checkpoint) is skipped; an unreadable record
 * is reported through `onSkip` and the next older one is tried.
 */
export function latestCheckpoint(
  runDir: string,
  onSkip: (dir: string, err: unknown) => void = () => undefined,
): FoundCheckpoint | undefined {
  const root = join(runDir, "checkpoints");
  if (!existsSync(root)) return undefined;
  const steps = readdirSync(root)
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const step of steps) {
    const dir = checkpointDir(runDir, step);
    if (!existsSync(join(dir, CHECKPOINT_RECORD))) continue;
    try {
      return { dir, record: readCheckpointRecord(dir) };
    } catch (err) {
      onSkip(dir, err);
    }
  }
  return undefined;
}
