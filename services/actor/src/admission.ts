/**
 * AReaL-style staleness control. With B groups per learner step and staleness bound η,
 * a group may be admitted while the policy is at version v only if
 *   admitted < (η + v + 1) · B      (no trajectory ends up more than η versions stale)
 *   admitted < steps · B            (the run's budget: every published group gets trained)
 * where `admitted` counts every group ever admitted by any actor (finished or running),
 * minus the groups the learner dropped whole (every member stale or failed), which yield
 * no training data: without that refund a run with η ≥ 1 could never produce its last
 * step, and every such drop would shrink the staleness window for good.
 * η = 0 is synchronous on-policy: exactly B groups per version.
 */
export interface AdmissionConfig {
  /** B */
  groupsPerStep: number;
  /** η */
  maxStaleness: number;
  /** Learner steps of the run. */
  steps: number;
}

export interface AdmissionState {
  admittedGroups: number;
}

export type AdmissionDecision = { admit: true } | { admit: false; reason: "staleness" | "budget" };

export function admissionLimit(policyVersion: number, config: AdmissionConfig): number {
  const staleness = (config.maxStaleness + Math.max(0, policyVersion) + 1) * config.groupsPerStep;
  return Math.min(staleness, totalGroupBudget(config));
}

export function totalGroupBudget(config: AdmissionConfig): number {
  return config.steps * config.groupsPerStep;
}

export function decideAdmission(
  state: AdmissionState,
  policyVersion: number,
  config: AdmissionConfig,
): AdmissionDecision {
  if (state.admittedGroups >= totalGroupBudget(config)) return { admit: false, reason: "budget" };
  if (state.admittedGroups >= admissionLimit(policyVersion, config)) return { admit: false, reason: "staleness" };
  return { admit: true };
}

export function canAdmit(state: AdmissionState, policyVersion: number, config: AdmissionConfig): boolean {
  return decideAdmission(state, policyVersion, config).admit;
}
