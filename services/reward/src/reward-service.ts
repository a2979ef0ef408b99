import { contracts, unaryHandler, type GrpcServiceRegistration } from "@sluice/common";
import type { RewardMetrics } from "./reward-metrics.js";
import { isInfrastructureFailure, scoreBatch, type RewardConfig } from "./scorer.js";

/** gRPC RewardService: ScoreBatch scores synchronously; rejected trajectories come back with reasons. */
export function rewardGrpcService(config: RewardConfig, metrics?: RewardMetrics): GrpcServiceRegistration {
  return {
    name: "sluice.v1.RewardService",
    definition: contracts.RewardServiceService,
    implementation: {
      scoreBatch: unaryHandler<contracts.ScoreBatchRequest, contracts.ScoreBatchResponse>(async (req) =>
        scoreBatchResponse(req, config, metrics),
      ),
    },
  };
}

export function scoreBatchResponse(
  req: contracts.ScoreBatchRequest,
  config: RewardConfig,
  metrics?: RewardMetrics,
): contracts.ScoreBatchResponse {
  const { scored, rejected } = scoreBatch(req.trajectories, config);
  if (metrics) {
    metrics.recordScored(scored);
    for (const s of scored) {
      if (s.trajectory && isInfrastructureFailure(s.trajectory)) {
        metrics.recordInfraFailed(contracts.failureKindToJSON(s.trajectory.failure));
      }
    }
    for (const r of rejected) metrics.recordRejected(r.reason);
  }
  return {
    scored,
    rejected: rejected.map((r) => ({ trajectoryId: r.trajectoryId, reason: r.message })),
  };
}
