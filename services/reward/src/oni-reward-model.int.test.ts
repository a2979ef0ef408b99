import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  GrpcRewardModelClient,
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  rewardSchema,
  waitFor,
  type NatsHandles,
} from "@sluice/common";
import {
  engineSkip,
  startEngine,
  startNatsServer,
  type EngineProcess,
  type NatsServerHandle,
} from "@sluice/common/internal";
import { ONI_CHANNEL } from "./channels/oni.js";
import { EnginePrmScorer, ensurePrmModel } from "./channels/prm-engine.js";
import { PRM_CHANNEL } from "./channels/prm.js";
import { judgedChannels } from "./judged-channels.js";
import { stepAnnotationKey } from "./oni/annotation-key.js";
import { startOniService, type OniService } from "./oni/service.js";
import { passRule, startLocalJudge, type LocalJudge } from "./oni/testing/local-judge.js";
import { buildChannels, scoreTrajectory } from "./scorer.js";
import { makeTrajectory, makeTurn } from "./testing/fixtures.js";

const EXP = "reward-oni-rm-it";
const SMALL = {
  hidden_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  intermediate_size: 64,
};

function step(i: number, pass: boolean): contracts.Turn {
  return makeTurn(2, { observationText: `run ${i}: tests ${pass ? "PASS" : "FAIL"}`, actionText: `cmd ${i % 7}` });
}

async function metric(registry: ReturnType<typeof createMetricsRegistry>, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values[0]?.value ?? Number.NaN;
}

void describe(
  "ONI classification reward model trained by the real engine",
  { skip: engineSkip, timeout: 300_000 },
  () => {
    let server: NatsServerHandle;
    let nats: NatsHandles;
    let engine: EngineProcess;
    let rm: GrpcRewardModelClient;
    let judge: LocalJudge;
    let oni: OniService;
    const registry = createMetricsRegistry("reward", EXP);
    const logger = createLogger({ experiment: EXP, component: "reward", write: () => undefined });
    const config = rewardSchema.parse({
      oni: {
        enabled: true,
        rewardType: "classification",
        cInt: 1,
        beta: 0,
        judge: { requestDeadlineMs: 10_000 },
        annotator: { batchSize: 64, idleWaitMs: 50 },
        schedule: { burstSteps: 40, learningRate: 3e-3, batchSize: 32 },
        rewardModel: { tiny: SMALL, maxTokens: 96, trainIntervalMs: 100, seed: 1 },
      },
    });

    before(async () => {
      [server, engine, judge] = await Promise.all([
        startNatsServer(),
        startEngine(),
        startLocalJudge({ answer: passRule }),
      ]);
      nats = await connectNats(server.url, EXP, 5_000);
      rm = new GrpcRewardModelClient(`127.0.0.1:${engine.port}`);
      const oniConfig = { ...config.oni, judge: { ...config.oni.judge, baseUrl: judge.baseUrl } };
      oni = await startOniService({ experiment: EXP, config: oniConfig, nats, registry, logger, rewardModels: rm });
    });

    after(async () => {
      await oni?.stop();
      rm?.close();
      await judge?.close();
      await engine?.stop();
      await nats?.close();
      await server?.stop();
    });

    test("labels in the KV store train the model; the intrinsic channel changes and records the model version", async () => {
      const heldOut = makeTrajectory({
        trajectoryId: "held-out",
        turns: [step(1001, true), step(1002, false), step(1003, true)],
      });
      const deps = { labels: oni.labels, oniModel: oni.modelScorer };
      const channels = buildChannels(config, deps);
      const score = async (): Promise<contracts.RewardChannel> => {
        const external = await judgedChannels(heldOut, config, undefined, undefined, undefined, oni.modelScorer);
        const scored = scoreTrajectory(heldOut, config, channels, Date.now, external);
        const ch = scored.channels.find((c) => c.name === ONI_CHANNEL);
        assert.ok(ch);
        return ch;
      };
      const untrained = await score();
      assert.deepEqual(untrained.perTurn, [0, 0, 0]);
      assert.equal(untrained.producerVersion, "rm:oni@0");

      // 64 distinct steps, half PASS: the judge labels them (passRule) into the KV label store.
      for (let b = 0; b < 8; b++) {
        const turns = Array.from({ length: 8 }, (_, i) => step(b * 8 + i, (b * 8 + i) % 2 === 0));
        assert.equal(oni.enqueueTrajectory(makeTrajectory({ trajectoryId: `t${b}`, turns })), 8);
      }
      await waitFor(() => (oni.labels.size >= 64 ? true : undefined), 60_000, "labels stored");
      assert.equal(oni.labels.get(stepAnnotationKey(step(0, true)), -1), 1);
      assert.equal(oni.labels.get(stepAnnotationKey(step(1, false)), -1), 0);

      // ONI schedule: a burst of 40 steps per arrival of new labels. The labels come in
      // several judge batches, so an early burst may have seen only some of them: wait until
      // a full burst is in and the model separates unseen steps (r_int = 1[p₁ > 0.5]).
      const trained = await waitFor(
        async () => {
          const ch = await score();
          const v = Number(/^rm:oni@(\d+)$/.exec(ch.producerVersion)?.[1]);
          return ch.perTurn.join(",") === "1,0,1" && v >= 40 ? ch : undefined;
        },
        180_000,
        "the reward model separating unseen PASS / FAIL steps",
        250,
      );
      const version = Number(/^rm:oni@(\d+)$/.exec(trained.producerVersion)?.[1]);
      assert.ok(version >= 40, trained.producerVersion);
      assert.equal(trained.weight, 1);
      assert.ok((await metric(registry, "sluice_oni_reward_model_accuracy")) > 0.9);
      assert.ok((await metric(registry, "sluice_oni_reward_model_loss")) < 0.5);
      assert.ok((await metric(registry, "sluice_oni_reward_model_train_steps_total")) >= 40);
      assert.ok((await metric(registry, "sluice_oni_intrinsic_reward_mean")) > 0);
    });

    test("the discriminative PRM route scores each step with a model loaded by name", async () => {
      const created = await rm.create({
        name: "prm",
        kind: contracts.RewardModelKind.REWARD_MODEL_KIND_REGRESSION,
        tinyJson: JSON.stringify(SMALL),
        maxTokens: 96,
      });
      assert.ok(created.created);
      for (let i = 0; i < 40; i++) {
        const examples = Array.from({ length: 16 }, (_, j) => ({
          text: `Observation:\nrun ${i * 16 + j}: tests ${j % 2 ? "PASS" : "FAIL"}\n\nAction:\ncmd`,
          label: j % 2 ? 0.5 : -0.5,
        }));
        await rm.train({ name: "prm", examples, optimizer: { learningRate: 3e-3, weightDecay: 0, maxGradNorm: 0 } });
      }
      const prmConfig = rewardSchema.parse({ prm: { enabled: true, source: "engine" } });
      assert.equal((await ensurePrmModel(prmConfig.prm, rm))?.version, 40);
      const t = makeTrajectory({ turns: [step(5001, true), step(5002, false)] });
      const external = await judgedChannels(t, prmConfig, new EnginePrmScorer(prmConfig.prm, rm));
      const prm = external.get(PRM_CHANNEL);
      assert.ok(prm);
      assert.equal(prm.producerVersion, "rm:prm@40");
      assert.equal(prm.gatePassed, true);
      assert.ok((prm.perTurn[0] ?? 0) > 0 && (prm.perTurn[1] ?? 0) < 0, JSON.stringify(prm.perTurn));
      // A model that does not exist: NOT_FOUND at startup, default scores (gate closed) when scoring.
      const missing = rewardSchema.parse({ prm: { enabled: true, source: "engine", engine: { model: "absent" } } });
      await assert.rejects(ensurePrmModel(missing.prm, rm), /grpc code 5.*absent/);
      const failed = await new EnginePrmScorer(missing.prm, rm).score(t);
      assert.equal(failed.failed, 2);
      assert.deepEqual(failed.perTurn, [0, 0]);
    });
  },
);
