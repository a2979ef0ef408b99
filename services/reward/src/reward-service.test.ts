import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  contracts,
  createLogger,
  createMetricsRegistry,
  insecure,
  rewardSchema,
  startGrpcServer,
  unaryCall,
  CLIENT_OPTIONS,
} from "@sluice/common";
import { RewardMetrics } from "./reward-metrics.js";
import { rewardGrpcService } from "./reward-service.js";
import { makeTrajectory } from "./testing/fixtures.js";

void describe("RewardService.ScoreBatch over gRPC", { timeout: 10_000 }, () => {
  const registry = createMetricsRegistry("reward", "exp");
  let server: Awaited<ReturnType<typeof startGrpcServer>>;
  let client: contracts.RewardServiceClient;

  before(async () => {
    server = await startGrpcServer({
      port: 0,
      services: [rewardGrpcService(rewardSchema.parse({}), new RewardMetrics(registry))],
      logger: createLogger({ experiment: "exp", component: "reward", write: () => undefined }),
      registry,
    });
    client = new contracts.RewardServiceClient(`127.0.0.1:${server.port}`, insecure(), CLIENT_OPTIONS);
  });
  after(async () => {
    client?.close();
    await server?.shutdown(1_000);
  });

  void it("scores a batch and lists rejected trajectories with reasons", async () => {
    const res = await unaryCall(
      "ScoreBatch",
      client.scoreBatch.bind(client),
      {
        trajectories: [
          makeTrajectory({
            trajectoryId: "a",
            outcome: contracts.Outcome.fromPartial({
              level: contracts.OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL,
              score: 0.5,
            }),
          }),
          makeTrajectory({
            trajectoryId: "b",
            outcome: contracts.Outcome.fromPartial({ level: contracts.OutcomeLevel.OUTCOME_LEVEL_UNSPECIFIED }),
          }),
        ],
      },
      5_000,
    );
    assert.deepEqual(
      res.scored.map((s) => [s.trajectory?.trajectoryId, s.reward]),
      [["a", 0.5]],
    );
    assert.equal(res.rejected.length, 1);
    assert.equal(res.rejected[0]?.trajectoryId, "b");
    assert.match(res.rejected[0]?.reason ?? "", /unspecified_level/);
    assert.match(
      await registry.metrics(),
      /sluice_reward_trajectories_rejected_total\{[^}]*reason="unspecified_level"/,
    );
  });
});
