import { errorMessage, type Logger } from "@sluice/common";
import { isConflict } from "../errors.js";
import { TYPES } from "../kube/resources.js";
import type { KubeApi, KubeObject } from "../kube/types.js";
import type { Clock, Timer } from "./clock.js";

export interface LeaderElectionOptions {
  api: KubeApi;
  clock: Clock;
  logger: Logger;
  namespace: string;
  leaseName: string;
  identity: string;
  /** How long a holder's claim lasts after its last renewal, as observed by the others. */
  leaseDurationMs: number;
  /** A leader that has not renewed for this long steps down (before anyone may take over). */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

export const DEFAULT_LEASE_TIMINGS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/**
 * Lease-based leader election (coordination.k8s.io/v1), following client-go: expiry is judged
 * by when *this* replica last saw the lease record change, on its own clock, so clock skew
 * between replicas does not matter; writes are PUTs with the resourceVersion read, so two
 * candidates cannot both win; a leader that cannot renew within renewDeadline steps down
 * before its lease can expire for the others (renewDeadline < leaseDuration).
 */
export class LeaderElector {
  private observedRecord = "";
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private leading = false;
  private timer: Timer | undefined;
  private stopped = true;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly o: LeaderElectionOptions) {
    if (o.renewDeadlineMs >= o.leaseDurationMs) throw new Error("renewDeadlineMs must be below leaseDurationMs");
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  /** Stops campaigning; a leader releases the lease so the other replica takes over at once. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.inFlight;
    if (this.leading && release) await this.release();
    this.setLeading(false);
  }

  /** One attempt to take or renew the lease; true when this replica holds it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, leaseName, identity, clock } = this.o;
    const now = clock.now();
    const ref = { ...TYPES.lease, namespace, name: leaseName };
    const existing = await api.get(ref);
    if (!existing) {
      await api.create({ ...ref, metadata: { name: leaseName, namespace }, spec: this.spec(now, now, 0) });
      this.observe("", now);
      return true;
    }
    const spec = (existing.spec ?? {}) as LeaseSpec;
    const record = `${spec.holderIdentity ?? ""}|${spec.renewTime ?? ""}|${spec.leaseTransitions ?? 0}`;
    if (record !== this.observedRecord) this.observe(record, now);
    const holder = spec.holderIdentity ?? "";
    const held = holder !== "" && holder !== identity;
    const durationMs = (spec.leaseDurationSeconds ?? this.o.leaseDurationMs / 1000) * 1000;
    if (held && this.observedAtMs + durationMs > now) return false;
    const mine = holder === identity;
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const acquiredMs = mine && spec.acquireTime ? Date.parse(spec.acquireTime) : now;
    const next: KubeObject = { ...existing, spec: this.spec(acquiredMs, now, transitions) };
    await api.replace(next);
    return true;
  }

  private tick(): void {
    if (this.stopped) return;
    this.inFlight = this.attempt().finally(() => {
      this.inFlight = undefined;
      if (!this.stopped) this.timer = this.o.clock.setTimer(() => this.tick(), this.o.retryPeriodMs);
    });
  }

  private async attempt(): Promise<void> {
    const now = this.o.clock.now();
    let held: boolean | undefined;
    try {
      held = await this.tryAcquireOrRenew();
    } catch (err) {
      if (!isConflict(err)) this.o.logger.warn("lease update failed", { err: errorMessage(err) });
    }
    if (this.stopped) return;
    if (held === true) {
      this.lastRenewMs = now;
      this.setLeading(true);
    } else if (held === false) {
      // Another replica holds a live lease: we are not (or no longer) the leader.
      this.setLeading(false);
    } else if (this.leading && this.o.clock.now() - this.lastRenewMs >= this.o.renewDeadlineMs) {
      // Could not renew in time: step down before the lease can expire for the others.
      this.setLeading(false);
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.o.logger.info(leading ? "became leader" : "stopped leading", { identity: this.o.identity });
    if (leading) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private async release(): Promise<void> {
    const { api, namespace, leaseName } = this.o;
    try {
      const existing = await api.get({ ...TYPES.lease, namespace, name: leaseName });
      const spec = (existing?.spec ?? {}) as LeaseSpec;
      if (!existing || spec.holderIdentity !== this.o.identity) return;
      await api.replace({ ...existing, spec: { ...spec, holderIdentity: "", leaseDurationSeconds: 1 } });
    } catch (err) {
      this.o.logger.warn("lease release failed", { err: errorMessage(err) });
    }
  }

  private observe(record: string, now: number): void {
    this.observedRecord = record;
    this.observedAtMs = now;
  }

  private spec(acquiredMs: number, renewedMs: number, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: microTime(acquiredMs),
      renewTime: microTime(renewedMs),
      leaseTransitions: transitions,
    };
  }
}

/** metav1.MicroTime wants six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
