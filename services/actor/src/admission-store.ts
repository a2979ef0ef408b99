import { KV_KEYS, TransportError, ValidationError, type KV } from "@sluice/common";
import { decideAdmission, type AdmissionConfig } from "./admission.js";

export const ADMISSION_KEY = "admission";

/** A group some actor is running: who, and until when its lease holds. */
export interface InflightGroup {
  actor: string;
  leaseUntilMs: number;
}

/**
 * The admission record shared by every actor (one KV key, compare-and-set):
 * `admittedGroups` is the next group ordinal (every group ever admitted), `inflight` the
 * groups admitted but not yet fully published, each under a lease its actor renews.
 */
export interface AdmissionRecord {
  admittedGroups: number;
  inflight: Record<string, InflightGroup>;
}

/**
 * Outcome of one admission attempt; `ordinal` numbers groups across all actors of the run.
 * `reclaimed`: a group whose actor died (lease expired) or gave it back, run again under
 * the same ordinal (same task, same seeds) without spending budget. `waiting`: the budget
 * is spent but other actors' groups are still in flight (one may need reclaiming).
 */
export type AdmissionResult =
  | { admitted: true; ordinal: number; reclaimed: boolean }
  | { admitted: false; reason: "staleness" | "budget" | "waiting" };

export interface AdmissionStoreOptions {
  actorId?: string;
  /** A group whose actor has not renewed its lease for this long is run again; default 60 s. */
  leaseMs?: number;
  now?: () => number;
}

const MAX_CAS_ATTEMPTS = 100;

/**
 * Admission shared by every actor, kept in the experiment KV bucket and advanced with
 * compare-and-set (kv.update with the last revision), so two actors never both take the
 * last slot of a version. Leases make it survive restarts: the groups of an actor that
 * was killed are reclaimed by whichever actor asks next once their lease expires, so a
 * run never waits forever on a group nobody is running.
 */
export class KvAdmissionStore {
  private readonly actorId: string;
  private readonly leaseMs: number;
  private readonly now: () => number;

  constructor(
    private readonly kv: KV,
    private readonly config: AdmissionConfig,
    options: AdmissionStoreOptions = {},
    private readonly key = ADMISSION_KEY,
  ) {
    this.actorId = options.actorId ?? "actor";
    this.leaseMs = options.leaseMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async read(): Promise<AdmissionRecord & { revision: number }> {
    const entry = await this.kv.get(this.key);
    if (!entry || entry.operation !== "PUT") return { admittedGroups: 0, inflight: {}, revision: 0 };
    return { ...parseRecord(entry.string()), revision: entry.revision };
  }

  /** Reclaims an abandoned group, or takes one new group slot if the policy version allows it. */
  async tryAdmit(policyVersion: number): Promise<AdmissionResult> {
    let out: AdmissionResult = { admitted: false, reason: "staleness" };
    const refunds = await this.refunds();
    await this.mutate((r) => {
      const now = this.now();
      const lease: InflightGroup = { actor: this.actorId, leaseUntilMs: now + this.leaseMs };
      const orphan = Object.entries(r.inflight).find(([, g]) => g.leaseUntilMs <= now);
      if (orphan) {
        out = { admitted: true, ordinal: Number(orphan[0]), reclaimed: true };
        return { ...r, inflight: { ...r.inflight, [orphan[0]]: lease } };
      }
      // Groups the learner dropped whole free their slots: they yield no training data.
      const decision = decideAdmission({ admittedGroups: r.admittedGroups - refunds }, policyVersion, this.config);
      if (!decision.admit) {
        const othersRunning = Object.keys(r.inflight).length > 0;
        out = { admitted: false, reason: decision.reason === "budget" && othersRunning ? "waiting" : decision.reason };
        return undefined;
      }
      out = { admitted: true, ordinal: r.admittedGroups, reclaimed: false };
      return { admittedGroups: r.admittedGroups + 1, inflight: { ...r.inflight, [String(r.admittedGroups)]: lease } };
    });
    return out;
  }

  /** Groups the learner dropped whole (KV `admission_refunds`, written by the learner). */
  async refunds(): Promise<number> {
    const entry = await this.kv.get(KV_KEYS.admissionRefunds);
    if (!entry || entry.operation !== "PUT") return 0;
    let n: unknown;
    try {
      n = (JSON.parse(entry.string()) as { groups?: unknown } | null)?.groups;
    } catch (cause) {
      throw new ValidationError(`${KV_KEYS.admissionRefunds}: value is not JSON`, { cause });
    }
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new ValidationError(`${KV_KEYS.admissionRefunds}: groups must be a non-negative integer`);
    }
    return n;
  }

  /** The group is fully published: it leaves the in-flight set. */
  async complete(ordinal: number): Promise<void> {
    await this.mutate((r) => {
      if (!(String(ordinal) in r.inflight)) return undefined;
      const inflight = { ...r.inflight };
      delete inflight[String(ordinal)];
      return { ...r, inflight };
    });
  }

  /**
   * Gives a group back (its actor is shutting down before publishing it): its lease
   * expires now, so the next actor that asks runs it again under the same ordinal.
   */
  async release(ordinal: number): Promise<void> {
    await this.mutate((r) => {
      const g = r.inflight[String(ordinal)];
      if (!g || g.actor !== this.actorId) return undefined;
      return { ...r, inflight: { ...r.inflight, [String(ordinal)]: { ...g, leaseUntilMs: 0 } } };
    });
  }

  /** Extends the lease of every group this actor runs; returns how many it holds. */
  async renew(): Promise<number> {
    let held = 0;
    await this.mutate((r) => {
      const until = this.now() + this.leaseMs;
      const mine = Object.entries(r.inflight).filter(([, g]) => g.actor === this.actorId);
      held = mine.length;
      if (held === 0) return undefined;
      const inflight = { ...r.inflight };
      for (const [k] of mine) inflight[k] = { actor: this.actorId, leaseUntilMs: until };
      return { ...r, inflight };
    });
    return held;
  }

  /** Read, change, compare-and-set; `change` returns undefined for "nothing to write". */
  private async mutate(change: (r: AdmissionRecord) => AdmissionRecord | undefined): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.read();
      const next = change(current);
      if (next === undefined) return;
      const text = JSON.stringify({ admittedGroups: next.admittedGroups, inflight: next.inflight });
      try {
        if (current.revision === 0) await this.kv.create(this.key, text);
        else await this.kv.update(this.key, text, current.revision);
        return;
      } catch (err) {
        // Another actor wrote first (wrong last sequence): re-read and retry.
        lastError = err;
      }
    }
    throw new TransportError(
      `admission record ${this.key}: no compare-and-set succeeded in ${MAX_CAS_ATTEMPTS} attempts`,
      {
        cause: lastError,
      },
    );
  }
}

function parseRecord(text: string): AdmissionRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ValidationError(`admission record: value is not JSON: ${text.slice(0, 100)}`, { cause });
  }
  const r = raw as { admittedGroups?: unknown; inflight?: unknown } | null;
  const n = r?.admittedGroups;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new ValidationError(
      `admission record: admittedGroups must be a non-negative integer, got ${JSON.stringify(n)}`,
    );
  }
  const inflight: Record<string, InflightGroup> = {};
  const raw_inflight = r?.inflight ?? {};
  if (typeof raw_inflight !== "object" || raw_inflight === null) {
    throw new ValidationError("admission record: inflight must be an object");
  }
  for (const [k, v] of Object.entries(raw_inflight as Record<string, unknown>)) {
    const g = v as Partial<InflightGroup> | null;
    if (!/^\d+$/.test(k) || typeof g?.actor !== "string" || typeof g.leaseUntilMs !== "number") {
      throw new ValidationError(`admission record: inflight entry ${k} is malformed`);
    }
    inflight[k] = { actor: g.actor, leaseUntilMs: g.leaseUntilMs };
  }
  return { admittedGroups: n, inflight };
}
