import type { RLExperimentStatus } from "@sluice/common";
import type { ConditionType } from "../constants.js";

export type Condition = NonNullable<RLExperimentStatus["conditions"]>[number];
export type ConditionInput = Pick<Condition, "status" | "reason" | "message"> & { type: ConditionType };

/**
 * Sets one condition. lastTransitionTime moves only when the status flips (a new reason or
 * message with the same status is not a transition), as metav1.Condition consumers expect.
 */
export function setCondition(
  list: readonly Condition[],
  next: ConditionInput,
  nowIso: string,
  generation: number,
): Condition[] {
  const prev = list.find((c) => c.type === next.type);
  const cond: Condition = {
    type: next.type,
    status: next.status,
    observedGeneration: generation,
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : nowIso,
    reason: next.reason,
    message: next.message,
  };
  return prev ? list.map((c) => (c.type === next.type ? cond : c)) : [...list, cond];
}

export function findCondition(list: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isTrue(list: readonly Condition[] | undefined, type: ConditionType): boolean {
  return findCondition(list, type)?.status === "True";
}

/** Conditions whose status differs between two lists (the transitions worth an Event). */
export function transitions(before: readonly Condition[] | undefined, after: readonly Condition[]): Condition[] {
  return after.filter((c) => findCondition(before, c.type as ConditionType)?.status !== c.status);
}
