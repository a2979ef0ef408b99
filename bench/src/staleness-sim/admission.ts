import { decideAdmission, type AdmissionConfig, type AdmissionDecision, type AdmissionState } from "@sluice/actor";

type Refusal = Extract<AdmissionDecision, { admit: false }>["reason"];

/** One admission attempt: the group's ordinal, or why not (decideAdmission's reasons). */
export type SimAdmission = { admitted: true; ordinal: number } | { admitted: false; reason: Refusal };

/**
 * The actors' shared admitted-group counter held in memory, deciding with the actor's own
 * `decideAdmission`: KvAdmissionStore's counter without the KV round trip, compare-and-set
 * or per-actor leases (one event runs at a time here and no actor dies).
 */
export class InMemoryAdmissionStore {
  private readonly state: AdmissionState = { admittedGroups: 0 };

  constructor(private readonly config: AdmissionConfig) {}

  get admittedGroups(): number {
    return this.state.admittedGroups;
  }

  tryAdmit(policyVersion: number): SimAdmission {
    const decision = decideAdmission(this.state, policyVersion, this.config);
    if (!decision.admit) return { admitted: false, reason: decision.reason };
    const ordinal = this.state.admittedGroups;
    this.state.admittedGroups += 1;
    return { admitted: true, ordinal };
  }

  /** Gives one group's slot back (the what-if of SimConfig.releaseDroppedGroups). */
  release(): void {
    if (this.state.admittedGroups > 0) this.state.admittedGroups -= 1;
  }
}

/**
 * Actor.run's concurrency gate: with episodes running, a new group (always run whole)
 * waits until `running + groupSize ≤ maxConcurrentEpisodes`; an idle actor admits a group
 * even if it is larger than its concurrency.
 */
export function hasRoomForGroup(running: number, groupSize: number, maxConcurrentEpisodes: number): boolean {
  return running === 0 || running + groupSize <= maxConcurrentEpisodes;
}
