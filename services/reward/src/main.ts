import {
  GrpcRewardModelClient,
  ensureExperimentStreams,
  experimentSubjects,
  grpcAddress,
  openObjectStore,
  runService,
} from "@sluice/common";
import { PrmJudge } from "./channels/prm.js";
import { EnginePrmScorer, ensurePrmModel, type PrmStepScorer } from "./channels/prm-engine.js";
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
  // Engine-hosted reward models: ONI classification / ranking, the discriminative PRM route.
  const needsEngine =
    (config.oni.enabled && config.oni.rewardType !== "retrieval") ||
    (config.prm.enabled && config.prm.source === "engine");
  const rewardModels = needsEngine ? new GrpcRewardModelClient(grpcAddress(ctx.runtime.services.engine)) : undefined;
  const oni = config.oni.enabled
    ? await startOniService({
        experiment: exp,
        config: config.oni,
        nats: ctx.nats,
        registry: ctx.registry,
        logger: ctx.logger,
        rewardModels,
      })
    : undefined;
  const prmMetrics = config.prm.enabled ? new PrmMetrics(ctx.registry) : undefined;
  let prm: PrmStepScorer | undefined;
  if (config.prm.enabled && config.prm.source === "engine" && rewardModels) {
    await ensurePrmModel(config.prm, rewardModels);
    prm = new EnginePrmScorer(config.prm, rewardModels);
  } else if (config.prm.enabled) {
    prm = new PrmJudge(config.prm, (ok) => prmMetrics?.requests.inc({ outcome: ok ? "ok" : "failed" }));
  }
  const deps = oni ? { labels: oni.labels, oniModel: oni.modelScorer } : {};
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
      rewardModels?.close();
    },
  };
});
