import { contracts, unaryHandler, type GrpcServiceRegistration } from "@sluice/common";
import type { LearnerStatus } from "./learner-status.js";

/** Anything that reports learner status (the Learner, or a fake in tests). */
export interface StatusSource {
  getStatus(): LearnerStatus;
}

export function toGetStatusResponse(s: LearnerStatus): contracts.GetStatusResponse {
  return {
    step: s.step,
    policyVersion: s.policyVersion,
    trajectoriesTrained: s.trajectoriesTrained,
    trajectoriesDropped: { ...s.trajectoriesDropped },
    rewardMeanByStep: [...s.rewardMeanByStep],
    completionRateByStep: [...s.completionRateByStep],
    finished: s.finished,
  };
}

/** gRPC LearnerService: GetStatus, polled by the CLI for progress and the summary. */
export function learnerGrpcService(source: StatusSource): GrpcServiceRegistration {
  return {
    name: "sluice.v1.LearnerService",
    definition: contracts.LearnerServiceService,
    implementation: {
      getStatus: unaryHandler<contracts.GetStatusRequest, contracts.GetStatusResponse>(async () =>
        toGetStatusResponse(source.getStatus()),
      ),
    },
  };
}
