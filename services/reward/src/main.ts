import { ensureExperimentStreams, experimentSubjects, openObjectStore, runService } from "@sluice/common";
import { PrmJudge } from "./channels/prm.js";
import { startOniService } from "./oni/service.js";
import { startRewardPipeline } from "./pipeline.js";
import { PrmMetrics } from "./prm-metrics.js";
import { RewardMetrics } from "./reward-metrics.js";
import { rewardGrpcService } from "./reward-service.js";

await runService("reward", async (ctx) => {
  const exp = ctx.runtime.experiment;
  const config = ctx.runtime.spec.reward;
  await ensureExperimentStreams(ctx.nats.jsm, exp);
  const blobs = await openObjectStore(ctx.nats.nc, experimentSubjects(exp).blobBucket);
  const metrics = new RewardMetrics(ctx.registry, config.metricsWindow);
  const oni = config.oni.enabled
    ? await startOniService({
        experiment: exp,
        config: config.oni,
        nats: ctx.nats,
        registry: ctx.registry,
        logger: ctx.logger,
      })
    : undefined;
  const prmMetrics = config.prm.enabled ? new PrmMetrics(ctx.registry) : undefined;
  const prm = config.prm.enabled
    ? new PrmJudge(config.prm, (ok) => prmMetrics?.requests.inc({ outcome: ok ? "ok" : "failed" }))
    : undefined;
  const deps = oni ? { labels: oni.labels } : {};
  const pipeline = await startRewardPipeline({
    experiment: exp,
    config,
    nats: ctx.nats,
    blobs,
    events: ctx.events,
    logger: ctx.logger,
    metrics,
    signal: ctx.signal,
    deps,
    oni,
    prm,
    prmMetrics,
  });
  return {
    grpcServices: [rewardGrpcService(config, metrics, { deps, prm, prmMetrics })],
    stop: async () => {
      await pipeline.done;
      await oni?.stop();
    },
  };
});
