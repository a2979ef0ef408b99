import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ValidationError } from "@sluice/common";

export const LEDGER_FORMAT = "sluice-trained-ledger/1";
/**
 * Written into the checkpoint directory before its record (learner.json), which is renamed
 * into place last: a checkpoint that counts has the ledger of exactly the steps it covers,
 * and a crash before the record leaves an ignored directory that the resumed learner's
 * redo of those steps overwrites.
 */
export const LEDGER_FILE = "trained-ids.json";

/** What one checkpoint added to the accounting: which ids were trained at which step, which were dropped. */
export interface LedgerRecord {
  format: typeof LEDGER_FORMAT;
  /** The checkpoint's step; the entries cover the steps after the previous checkpoint up to it. */
  step: number;
  policy_version: number;
  /** Trajectory id → the step (1-based) whose update trained it; only ids whose messages this checkpoint acks. */
  trained: Record<string, number>;
  /** Trajectory id → why it was not trained (stale, group_timeout, infra_*, duplicate, …). */
  dropped: Record<string, string>;
}

/**
 * Knows what the learner decided about each trajectory id (trained at a step, or dropped
 * and why) and writes, with each checkpoint, the fate of exactly the ids that checkpoint
 * covers (whose messages it acks), so every trajectory id can be accounted for from durable
 * records alone (the chaos test does). Fates of ids not covered yet stay in memory: a learner
 * that dies before its checkpoint loses them together with the unacked messages they
 * describe, which come back.
 */
export class TrainedLedger {
  private readonly trained = new Map<string, number>();
  private readonly dropped = new Map<string, string>();

  noteTrained(ids: Iterable<string>, step: number): void {
    for (const id of ids) this.trained.set(id, step);
  }

  noteDropped(id: string, reason: string): void {
    // The first decision stands (a later copy of the id is a duplicate of it).
    if (id.length > 0 && !this.dropped.has(id)) this.dropped.set(id, reason);
  }

  /**
   * Writes the fates of `covered` (the ids whose messages the checkpoint in `dir` acks) into
   * `dir`, atomically, and forgets them. A trained id is recorded as trained even when a
   * duplicate copy of it was dropped.
   */
  write(dir: string, step: number, policyVersion: number, covered: Iterable<string>): void {
    const trained: Record<string, number> = {};
    const dropped: Record<string, string> = {};
    for (const id of covered) {
      const at = this.trained.get(id);
      if (at !== undefined) trained[id] = at;
      else if (trained[id] === undefined) dropped[id] = this.dropped.get(id) ?? "unknown";
    }
    const record: LedgerRecord = { format: LEDGER_FORMAT, step, policy_version: policyVersion, trained, dropped };
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `${LEDGER_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify(record) + "\n");
    renameSync(tmp, join(dir, LEDGER_FILE));
    for (const id of [...Object.keys(trained), ...Object.keys(dropped)]) {
      this.trained.delete(id);
      this.dropped.delete(id);
    }
  }
}

/** The ledger of a checkpoint directory; undefined for checkpoints written without one. */
export function readLedger(dir: string): LedgerRecord | undefined {
  const path = join(dir, LEDGER_FILE);
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LedgerRecord>;
  if (
    parsed.format !== LEDGER_FORMAT ||
    !Number.isInteger(parsed.step) ||
    typeof parsed.trained !== "object" ||
    parsed.trained === null ||
    typeof parsed.dropped !== "object" ||
    parsed.dropped === null
  ) {
    throw new ValidationError(`${path}: not a ${LEDGER_FORMAT} record`, { context: { path } });
  }
  return parsed as LedgerRecord;
}
