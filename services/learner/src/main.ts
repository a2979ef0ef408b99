import { GrpcEngineClient, errorMessage, grpcAddress, runService } from "@sluice/common";
import { Learner } from "./learner.js";
import { learnerGrpcService } from "./learner-service.js";

const STOP_WAIT_MS = 8_000;

await runService("learner", async (ctx) => {
  const spec = ctx.runtime.spec;
  const engine = new GrpcEngineClient(grpcAddress(ctx.runtime.services.engine), {
    trainMs: spec.learner.stepTimeoutMs,
  });
  const learner = new Learner({
    experiment: ctx.runtime.experiment,
    spec,
    runDir: ctx.runtime.runDir,
    nats: ctx.nats,
    engine,
    events: ctx.events,
    logger: ctx.logger,
    registry: ctx.registry,
    incompleteGroupPolicy: spec.learner.incompleteGroupPolicy,
  });
  const done = learner.run(ctx.signal).then(
    (status) => {
      ctx.logger.info("learner loop ended", { step: status.step, finished: status.finished });
    },
    async (err: unknown) => {
      ctx.logger.error("learner failed", { err });
      await ctx.events.emit({
        kind: "learner_failed",
        severity: "error",
        message: errorMessage(err),
        step: learner.getStatus().step,
      });
      process.exit(1);
    },
  );
  return {
    grpcServices: [learnerGrpcService(learner)],
    stop: async () => {
      // ctx.signal is already aborted: the loop returns after its current fetch or step.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
      clearTimeout(timer);
      engine.close();
    },
  };
});
