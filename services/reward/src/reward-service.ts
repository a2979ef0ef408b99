import { contracts, unaryHandler, type GrpcServiceRegistration } from "@sluice/common";
import type { PrmStepScorer } from "./channels/prm-engine.js";
import { judgedChannels } from "./judged-channels.js";
import type { PrmMetrics } from "./prm-metrics.js";
import type { RewardMetrics } from "./reward-metrics.js";
import { isInfrastructureFailure, scoreBatch, type ChannelDeps, type RewardConfig } from "./scorer.js";

/** What ScoreBatch uses besides the config: ONI's label store, the PRM judge. */
export interface RewardServiceDeps {
  deps?: ChannelDeps;
  prm?: PrmStepScorer;
  prmMetrics?: PrmMetrics;
}

/** gRPC RewardService: ScoreBatch scores (PRM judge awaited); rejected trajectories come back with reasons. */
export function rewardGrpcService(
  config: RewardConfig,
  metrics?: RewardMetrics,
  services: RewardServiceDeps = {},
): GrpcServiceRegistration {
  return {
    name: "sluice.v1.RewardService",
    definition: contracts.RewardServiceService,
    implementation: {
      scoreBatch: unaryHandler<contracts.ScoreBatchRequest, contracts.ScoreBatchResponse>(async (req) =>
        scoreBatchResponseJudged(req, config, metrics, services),
      ),
    },
  };
}

/** ScoreBatch with judged channels (PRM) scored first, concurrently per trajectory. */
export async function scoreBatchResponseJudged(
  req: contracts.ScoreBatchRequest,
  config: RewardConfig,
  metrics: RewardMetrics | undefined,
  services: RewardServiceDeps,
): Promise<contracts.ScoreBatchResponse> {
  const judged = await Promise.all(
    req.trajectories.map((t) =>
      judgedChannels(
        t,
        config,
        services.prm,
        undefined,
        (s) => services.prmMetrics?.record(s),
        services.deps?.oniModel,
      ),
    ),
  );
  const byId = new Map(req.trajectories.map((t, i) => [t, judged[i] ?? new Map<string, contracts.RewardChannel>()]));
  return scoreBatchResponse(req, config, metrics, services.deps, (t) => byId.get(t) ?? new Map());
}

export function scoreBatchResponse(
  req: contracts.ScoreBatchRequest,
  config: RewardConfig,
  metrics?: RewardMetrics,
  deps: ChannelDeps = {},
  external?: (t: contracts.Trajectory) => ReadonlyMap<string, contracts.RewardChannel>,
): contracts.ScoreBatchResponse {
  const { scored, rejected } = scoreBatch(req.trajectories, config, deps, external);
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
