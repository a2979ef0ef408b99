import { contracts } from "@sluice/common";

const { FailureKind, failureKindToJSON } = contracts;

/** True when the episode failed for infrastructure reasons: masked out, never scored as zero. */
export function isInfraFailure(t: contracts.Trajectory): boolean {
  return t.failure !== FailureKind.FAILURE_KIND_NONE && t.failure !== FailureKind.FAILURE_KIND_UNSPECIFIED;
}

/** Drop reason for an infra failure, e.g. `infra_sandbox_error`. */
export function infraDropReason(failure: contracts.FailureKind): `infra_${string}` {
  const name = failureKindToJSON(failure);
  return `infra_${name.replace(/^FAILURE_KIND_/, "").toLowerCase()}`;
}
