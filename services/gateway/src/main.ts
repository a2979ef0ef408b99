import { GrpcEngineClient, grpcAddress, runService } from "@sluice/common";
import { retryWhileUnavailable } from "./engine-retry.js";
import { createGatewayServer } from "./gateway-server.js";

// Process entry: `node services/gateway/dist/main.js --runtime run/runtime.json`.
await runService("gateway", async (ctx) => {
  const endpoint = ctx.runtime.services.gateway;
  const engine = new GrpcEngineClient(grpcAddress(ctx.runtime.services.engine));
  const server = createGatewayServer({
    // A restarting engine makes requests wait (up to the agents' own request deadline), not fail.
    engine: retryWhileUnavailable(engine, { retryMs: ctx.runtime.spec.rollout.requestTimeoutMs, logger: ctx.logger }),
    model: ctx.runtime.spec.model.name,
    logger: ctx.logger,
    registry: ctx.registry,
  });
  try {
    await server.listen(endpoint.httpPort ?? 0, endpoint.host);
  } catch (err) {
    engine.close();
    throw err;
  }
  return {
    // Health and reflection only; the gateway's API is HTTP.
    grpcServices: [],
    stop: async () => {
      await server.close();
      engine.close();
    },
  };
});
