import {
  ensureExperimentStreams,
  errorMessage,
  experimentSubjects,
  grpcAddress,
  openKv,
  openObjectStore,
  runService,
  ValidationError,
} from "@sluice/common";
import { Actor } from "./actor.js";
import { GatewayClient } from "./gateway-client.js";

// One process per actor: `sluice up` starts spec.rollout.actors of them, each with its
// own SLUICE_ACTOR_ID so group ids (and so trajectory ids) never collide.
await runService("actor", async (ctx) => {
  const { spec } = ctx.runtime;
  const gw = ctx.runtime.services.gateway;
  if (gw.httpPort === undefined) throw new ValidationError("runtime config: services.gateway.httpPort is missing");
  const actorId = process.env.SLUICE_ACTOR_ID ?? "actor-0";
  const names = experimentSubjects(ctx.runtime.experiment);
  await ensureExperimentStreams(ctx.nats.jsm, ctx.runtime.experiment);
  const kv = await openKv(ctx.nats.nc, names.kvBucket);
  const blobs = await openObjectStore(ctx.nats.nc, names.blobBucket);
  const actor = new Actor({
    actorId,
    experiment: ctx.runtime.experiment,
    spec,
    nats: ctx.nats,
    kv,
    blobs,
    gateway: new GatewayClient({
      baseUrl: `http://${gw.host}:${gw.httpPort}`,
      model: spec.model.name,
      requestTimeoutMs: spec.rollout.requestTimeoutMs,
    }),
    logger: ctx.logger,
    sandboxAddress: grpcAddress(ctx.runtime.services.sandbox),
    registry: ctx.registry,
    events: ctx.events,
  });
  const done = actor.run(ctx.signal).catch(async (err: unknown) => {
    ctx.logger.error("actor loop failed", { err });
    await ctx.events.emit({
      kind: "actor_failed",
      severity: "error",
      message: errorMessage(err),
      attributes: { actorId },
    });
    // A dead rollout loop must not look like a healthy idle actor: exit so the supervisor sees it.
    process.kill(process.pid, "SIGTERM");
  });
  return {
    grpcServices: [],
    stop: async () => {
      await done;
    },
  };
});
