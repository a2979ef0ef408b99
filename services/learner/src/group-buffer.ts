import type { contracts } from "@sluice/common";
import { infraDropReason, isInfraFailure } from "./failures.js";
import { oldestActionVersion } from "./sequence-builder.js";

/** What a buffered message must offer; JetStream's JsMsg satisfies it. */
export interface Ackable {
  ack(): void;
}

/** What to do with a group still incomplete after the timeout. */
export type IncompleteGroupPolicy = "drop" | "complete_partial";

export type DropReason = "stale" | "group_timeout" | "duplicate" | "malformed" | "zero_variance" | `infra_${string}`;

export interface Sample<M extends Ackable> {
  scored: contracts.ScoredTrajectory;
  msg: M;
  /** Oldest action-token policy version (staleness is measured against it). */
  version: number;
}

/** A group handed to a learner step: valid members only, plus every message the group used. */
export interface ReadyGroup<M extends Ackable> {
  groupId: string;
  groupSize: number;
  /** Members that train: not infra-failed, not stale. Never empty. */
  valid: Sample<M>[];
  /** True when the group timed out and trains with what arrived (complete_partial). */
  partial: boolean;
}

export interface GroupBufferOptions {
  groupTimeoutMs: number;
  policy?: IncompleteGroupPolicy;
  /** Milliseconds since epoch; injectable for tests. */
  now?: () => number;
  /** Called once per dropped trajectory (or malformed message). */
  onDrop?: (reason: DropReason, trajectoryId: string) => void;
  /** Called with currentVersion − sampleVersion for every sample checked at consumption. */
  onStaleness?: (lag: number) => void;
  /**
   * A complete group left with no trainable member at consumption (all stale or failed):
   * it yields nothing, so admission must let another group take its place.
   */
  onGroupDropped?: (groupId: string) => void;
  /**
   * DAPO dynamic sampling (Yu et al. 2025, arXiv 2503.14476): a group whose members all
   * have the same reward (and the same per-turn rewards) has zero advantage everywhere;
   * drop it (`zero_variance`) and let admission refill it. Default off.
   */
  dropZeroVariance?: boolean;
}

export type AddResult = "added" | "duplicate" | "late";

interface PendingGroup<M extends Ackable> {
  groupId: string;
  groupSize: number;
  firstSeenMs: number;
  members: Sample<M>[];
  partial: boolean;
  /**
   * Messages of members dropped at consumption while the rest of the group waits to be
   * taken: acked with the group, never before it. Acked alone, a restarted learner would get
   * only the group's other members back, never complete it, and lose the group's slot.
   */
  heldDrops: M[];
}

/**
 * Collects scored trajectories by group id until groups are complete, and decides what
 * is dropped: redelivered duplicates, groups that time out, stale samples and
 * infra-failed members. Nothing is acked here: messages of dropped samples wait in
 * `takeAcks()` so the learner acks them together with its next step (ack after step).
 */
export class GroupBuffer<M extends Ackable> {
  private readonly pending = new Map<string, PendingGroup<M>>();
  private readonly ready: PendingGroup<M>[] = [];
  private readonly seen = new Set<string>();
  /** Groups already trained or dropped; later members of them are `late`. */
  private readonly closed = new Set<string>();
  private toAck: M[] = [];
  private readonly policy: IncompleteGroupPolicy;
  private readonly now: () => number;

  constructor(private readonly o: GroupBufferOptions) {
    this.policy = o.policy ?? "drop";
    this.now = o.now ?? Date.now;
  }

  /** Adds one decoded message. Duplicates and members of closed groups are dropped (acked later). */
  add(scored: contracts.ScoredTrajectory, msg: M): AddResult {
    const t = scored.trajectory;
    if (!t) throw new TypeError("scored trajectory without trajectory (decode validates this)");
    if (this.seen.has(t.trajectoryId)) {
      this.drop("duplicate", t.trajectoryId, msg);
      return "duplicate";
    }
    this.seen.add(t.trajectoryId);
    if (this.closed.has(t.groupId)) {
      this.drop("group_timeout", t.trajectoryId, msg);
      return "late";
    }
    let g = this.pending.get(t.groupId);
    if (!g) {
      g = {
        groupId: t.groupId,
        groupSize: t.groupSize,
        firstSeenMs: this.now(),
        members: [],
        partial: false,
        heldDrops: [],
      };
      this.pending.set(t.groupId, g);
    }
    g.members.push({ scored, msg, version: oldestActionVersion(t) });
    if (g.members.length >= g.groupSize) this.close(g);
    return "added";
  }

  /** Applies the group timeout to incomplete groups. */
  expire(): void {
    const now = this.now();
    for (const g of [...this.pending.values()]) {
      if (now - g.firstSeenMs < this.o.groupTimeoutMs) continue;
      const valid = g.members.filter((s) => !isInfraFailure(s.scored.trajectory!)).length;
      if (this.policy === "complete_partial" && valid >= 2) {
        g.partial = true;
        this.close(g);
      } else {
        this.pending.delete(g.groupId);
        this.closed.add(g.groupId);
        for (const s of g.members) this.drop("group_timeout", s.scored.trajectory!.trajectoryId, s.msg);
      }
    }
  }

  /**
   * Takes `count` ready groups for one step if that many survive the consumption
   * filters, else nothing. Filters: infra-failed members are dropped
   * (`infra_<kind>`), samples whose oldest action version < currentVersion − η are
   * dropped (`stale`); a group left without valid members is discarded.
   */
  takeGroups(count: number, currentVersion: number, maxStaleness: number): ReadyGroup<M>[] | undefined {
    this.filterReady(currentVersion, maxStaleness);
    if (this.ready.length < count) return undefined;
    const taken = this.ready.splice(0, count);
    for (const g of taken) for (const s of g.members) this.o.onStaleness?.(currentVersion - s.version);
    for (const g of taken) this.toAck.push(...g.heldDrops);
    return taken.map((g) => ({
      groupId: g.groupId,
      groupSize: g.groupSize,
      valid: g.members,
      partial: g.partial,
    }));
  }

  /** Messages of dropped samples since the last call; the learner acks them after its step. */
  takeAcks(): M[] {
    const out = this.toAck;
    this.toAck = [];
    return out;
  }

  /** Every message the buffer holds unacked (for ack-wait heartbeats). */
  heldMessages(): M[] {
    const out: M[] = [...this.toAck];
    for (const g of this.pending.values()) for (const s of g.members) out.push(s.msg);
    for (const g of this.ready) for (const s of g.members) out.push(s.msg);
    for (const g of this.ready) out.push(...g.heldDrops);
    return out;
  }

  /** Trajectories buffered (pending + ready groups). */
  depth(): number {
    let n = 0;
    for (const g of this.pending.values()) n += g.members.length;
    for (const g of this.ready) n += g.members.length;
    return n;
  }

  readyCount(): number {
    return this.ready.length;
  }

  private filterReady(currentVersion: number, maxStaleness: number): void {
    const minVersion = currentVersion - maxStaleness;
    for (let i = this.ready.length - 1; i >= 0; i--) {
      const g = this.ready[i]!;
      g.members = g.members.filter((s) => {
        const t = s.scored.trajectory!;
        if (isInfraFailure(t)) {
          this.holdDrop(g, infraDropReason(t.failure), t.trajectoryId, s.msg);
          return false;
        }
        if (s.version < minVersion) {
          this.holdDrop(g, "stale", t.trajectoryId, s.msg);
          return false;
        }
        return true;
      });
      if (g.members.length > 0 && this.o.dropZeroVariance === true && zeroVariance(g.members)) {
        for (const s of g.members) this.holdDrop(g, "zero_variance", s.scored.trajectory!.trajectoryId, s.msg);
        g.members = [];
      }
      if (g.members.length === 0) {
        this.toAck.push(...g.heldDrops);
        this.ready.splice(i, 1);
        this.o.onGroupDropped?.(g.groupId);
      }
    }
  }

  private close(g: PendingGroup<M>): void {
    this.pending.delete(g.groupId);
    this.closed.add(g.groupId);
    this.ready.push(g);
  }

  /** A member dropped from a group that stays ready: its ack waits for the group. */
  private holdDrop(g: PendingGroup<M>, reason: DropReason, trajectoryId: string, msg: M): void {
    this.o.onDrop?.(reason, trajectoryId);
    g.heldDrops.push(msg);
  }

  private drop(reason: DropReason, trajectoryId: string, msg: M): void {
    this.o.onDrop?.(reason, trajectoryId);
    this.toAck.push(msg);
  }
}

/** Every member has the same reward and the same per-turn rewards: every advantage is 0. */
function zeroVariance<M extends Ackable>(members: readonly Sample<M>[]): boolean {
  const first = members[0]!.scored;
  const same = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12;
  return members.every(
    (s) =>
      same(s.scored.reward, first.reward) &&
      s.scored.perTurnReward.length === first.perTurnReward.length &&
      s.scored.perTurnReward.every((r, t) => same(r, first.perTurnReward[t] ?? Number.NaN)),
  );
}
