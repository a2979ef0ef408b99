import { contracts, packFloat32, passedTests } from "@sluice/common";
import type { Ackable, ReadyGroup } from "./group-buffer.js";
import { buildWithContext, type GuidedContextMode } from "./guided-sequence.js";

const { FailureKind } = contracts;

/** One DPO pair of a task: a guided re-attempt that passed (y_w) and a failed attempt (y_l). */
export interface DpoPair {
  chosen: contracts.Trajectory;
  rejected: contracts.Trajectory;
}

const byId = (a: contracts.Trajectory, b: contracts.Trajectory): number =>
  a.trajectoryId < b.trajectoryId ? -1 : a.trajectoryId > b.trajectoryId ? 1 : 0;

/**
 * (guided success, failure) pairs of the same task (Agent-RLVR's DPO update, arXiv 2506.11425):
 * within each group, every guided re-attempt that passed is paired with the failed attempt it
 * was guided from, or else with another failed member of the group not yet paired (first
 * attempts before re-attempts). A failure is used once. Deterministic: groups and members in
 * id order.
 */
export function guidedDpoPairs<M extends Ackable>(groups: readonly ReadyGroup<M>[], threshold: number): DpoPair[] {
  const pairs: DpoPair[] = [];
  const ordered = [...groups].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  for (const g of ordered) {
    const members = g.valid.map((s) => s.scored.trajectory!).sort(byId);
    const failures = members
      .filter((t) => t.failure === FailureKind.FAILURE_KIND_NONE && !passedTests(t, threshold))
      .sort((a, b) => (a.guidanceRound ?? 0) - (b.guidanceRound ?? 0) || byId(a, b));
    const used = new Set<string>();
    for (const chosen of members.filter((t) => t.guidance.length > 0 && passedTests(t, threshold))) {
      const parent = failures.find(
        (f) => f.trajectoryId === chosen.guidedFromTrajectoryId && !used.has(f.trajectoryId),
      );
      const rejected = parent ?? failures.find((f) => !used.has(f.trajectoryId));
      if (!rejected) continue;
      used.add(rejected.trajectoryId);
      pairs.push({ chosen, rejected });
    }
  }
  return pairs;
}

/**
 * Pairs → DPO training sequences, chosen at 2k and rejected at 2k+1 (the engine's DPO
 * layout), each built under the context mode (so with `strip` both responses are scored on
 * the unguided prompt x, as DPO's π(y | x) requires). Advantages are unused (0); the loss mask
 * selects the response tokens whose logprobs DPO sums.
 */
export function dpoSequences(pairs: readonly DpoPair[], mode: GuidedContextMode): contracts.TrainingSequence[] {
  const zeroAdvantage = (s: contracts.TrainingSequence): contracts.TrainingSequence => ({
    ...s,
    advantages: packFloat32(new Float32Array(s.lossMask.length)),
  });
  return pairs.flatMap((p) => [
    zeroAdvantage(buildWithContext(p.chosen, 0, mode).built.sequence),
    zeroAdvantage(buildWithContext(p.rejected, 0, mode).built.sequence),
  ]);
}
