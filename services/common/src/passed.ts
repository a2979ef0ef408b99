import { FailureKind, type Trajectory } from "./gen/sluice/v1/trajectory.js";

/**
 * The unit-test verdict on an attempt (Agent-RLVR's VALIDATE): no infrastructure failure and
 * an outcome score of at least `threshold` (1 = resolved). Guidance, DPO pairs, the exported
 * training data and the final evaluation all judge an attempt by this one rule.
 */
export function passedTests(t: Trajectory, threshold: number): boolean {
  return t.failure === FailureKind.FAILURE_KIND_NONE && (t.outcome?.score ?? 0) >= threshold;
}
