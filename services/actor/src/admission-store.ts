import { TransportError, ValidationError, type KV } from "@sluice/common";
import { decideAdmission, type AdmissionConfig, type AdmissionState } from "./admission.js";

export const ADMISSION_KEY = "admission";

/** Outcome of one admission attempt; `ordinal` numbers groups across all actors of the run. */
export type AdmissionResult = { admitted: true; ordinal: number } | { admitted: false; reason: "staleness" | "budget" };

const MAX_CAS_ATTEMPTS = 100;

/**
 * The admitted-group counter shared by every actor, kept in the experiment KV bucket
 * and advanced with compare-and-set (kv.update with the last revision), so two actors
 * can never both take the last slot of a version.
 */
export class KvAdmissionStore {
  constructor(
    private readonly kv: KV,
    private readonly config: AdmissionConfig,
    private readonly key = ADMISSION_KEY,
  ) {}

  async read(): Promise<AdmissionState & { revision: number }> {
    const entry = await this.kv.get(this.key);
    if (!entry || entry.operation !== "PUT") return { admittedGroups: 0, revision: 0 };
    return { ...parseState(entry.string()), revision: entry.revision };
  }

  /** Takes one group slot if the policy version allows it. */
  async tryAdmit(policyVersion: number): Promise<AdmissionResult> {
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.read();
      const decision = decideAdmission(current, policyVersion, this.config);
      if (!decision.admit) return { admitted: false, reason: decision.reason };
      const next = JSON.stringify({ admittedGroups: current.admittedGroups + 1 });
      try {
        if (current.revision === 0) await this.kv.create(this.key, next);
        else await this.kv.update(this.key, next, current.revision);
        return { admitted: true, ordinal: current.admittedGroups };
      } catch (err) {
        // Another actor moved the counter first (wrong last sequence): re-read and retry.
        lastError = err;
      }
    }
    throw new TransportError(
      `admission counter ${this.key}: no compare-and-set succeeded in ${MAX_CAS_ATTEMPTS} attempts`,
      {
        cause: lastError,
      },
    );
  }

  /**
   * Gives back one slot of a group that will never be fully published (its actor is
   * shutting down), so the run's budget can still be spent by another actor. The
   * learner drops the incomplete group after its group timeout.
   */
  async release(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.read();
      if (current.admittedGroups === 0 || current.revision === 0) return;
      try {
        await this.kv.update(
          this.key,
          JSON.stringify({ admittedGroups: current.admittedGroups - 1 }),
          current.revision,
        );
        return;
      } catch (err) {
        lastError = err;
      }
    }
    throw new TransportError(`admission counter ${this.key}: release failed after ${MAX_CAS_ATTEMPTS} attempts`, {
      cause: lastError,
    });
  }
}

function parseState(text: string): AdmissionState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ValidationError(`admission counter: value is not JSON: ${text.slice(0, 100)}`, { cause });
  }
  const n = (raw as { admittedGroups?: unknown } | null)?.admittedGroups;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new ValidationError(
      `admission counter: admittedGroups must be a non-negative integer, got ${JSON.stringify(n)}`,
    );
  }
  return { admittedGroups: n };
}
