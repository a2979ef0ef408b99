import { ensureExperimentStreams, experimentSubjects, openObjectStore, runService } from "@sluice/common";
import { startRewardPipeline } from "./pipeline.js";
import { RewardMetrics } from "./reward-metrics.js";
import { rewardGrpcService } from "./reward-service.js";

await runService("reward", async (ctx) => {
  const exp = ctx.runtime.experiment;
  const config = ctx.runtime.spec.reward;
  await ensureExperimentStreams(ctx.nats.jsm, exp);
  const blobs = await openObjectStore(ctx.nats.nc, experimentSubjects(exp).blobBucket);
  const metrics = new RewardMetrics(ctx.registry, config.metricsWindow);
  const pipeline = await startRewardPipeline({
    experiment: exp,
    config,
    nats: ctx.nats,
    blobs,
    events: ctx.events,
    logger: ctx.logger,
    metrics,
    signal: ctx.signal,
  });
  return {
    grpcServices: [rewardGrpcService(config, metrics)],
    stop: () => pipeline.done,
  };
});
