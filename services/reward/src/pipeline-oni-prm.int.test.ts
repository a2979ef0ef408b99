import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DedupePublisher,
  EventPublisher,
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  decodeEvent,
  decodeScoredTrajectory,
  ensureExperimentStreams,
  experimentSubjects,
  rewardSchema,
  waitFor,
  withDeadline,
  type NatsHandles,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { PRM_CHANNEL, PrmJudge } from "./channels/prm.js";
import { ONI_CHANNEL } from "./channels/oni.js";
import { decodeAnnotationRequest, decodeAnnotationResult, type AnnotationResult } from "./oni/annotation-messages.js";
import { stepAnnotationKey } from "./oni/annotation-key.js";
import { KvLabelStore, labelBucketName } from "./oni/label-store.js";
import { startOniService, type OniService } from "./oni/service.js";
import { passRule, startLocalJudge, type LocalJudge } from "./oni/testing/local-judge.js";
import { startRewardPipeline, type RunningPipeline } from "./pipeline.js";
import { PrmMetrics } from "./prm-metrics.js";
import { RewardMetrics } from "./reward-metrics.js";
import { makeTrajectory, makeTurn } from "./testing/fixtures.js";

const ONI_EXP = "reward-oni-it";
const DOWN_EXP = "reward-prm-down-it";
const turns = [
  makeTurn(2, { observationText: "tests PASS", actionText: "run tests" }),
  makeTurn(2, { observationText: "tests FAIL", actionText: "edit file" }),
];

void describe("reward pipeline with ONI and a PRM judge against a real nats-server", { timeout: 60_000 }, () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let oniJudge: LocalJudge;
  let prmJudge: LocalJudge;
  let oni: OniService;
  const pipelines: RunningPipeline[] = [];
  const abort = new AbortController();
  const logger = createLogger({ experiment: ONI_EXP, component: "reward", write: () => undefined });
  const requests: string[] = [];
  const results: AnnotationResult[] = [];

  async function start(exp: string, prmBaseUrl: string, withOni: boolean): Promise<void> {
    await ensureExperimentStreams(nats.jsm, exp);
    const config = rewardSchema.parse({
      prm: {
        enabled: true,
        judge: {
          baseUrl: prmBaseUrl,
          model: "prm-judge",
          retries: 0,
          requestDeadlineMs: 1_000,
          batchDeadlineMs: 3_000,
        },
      },
      oni: { enabled: withOni, cInt: 0.4, judge: { baseUrl: oniJudge.baseUrl, requestDeadlineMs: 10_000 } },
    });
    const registry = createMetricsRegistry("reward", exp);
    if (withOni) {
      oni = await startOniService({ experiment: exp, config: config.oni, nats, registry, logger });
    }
    pipelines.push(
      await startRewardPipeline({
        experiment: exp,
        config,
        nats,
        blobs: undefined,
        events: new EventPublisher(nats, exp, "reward", logger),
        logger,
        metrics: new RewardMetrics(registry),
        signal: abort.signal,
        fetchExpiresMs: 200,
        ackWaitMs: 10_000,
        deps: withOni ? { labels: oni.labels } : {},
        oni: withOni ? oni : undefined,
        prm: new PrmJudge(config.prm),
        prmMetrics: new PrmMetrics(registry),
      }),
    );
  }

  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "reward-oni-it", 5_000);
    // The ONI judge takes 1.5 s per request: scoring must not wait for it.
    oniJudge = await startLocalJudge({ delayMs: 1_500, answer: passRule });
    prmJudge = await startLocalJudge({ answer: (p) => (p.includes("tests PASS") ? "Score: 0.5" : "Score: -0.25") });
    const s = experimentSubjects(ONI_EXP);
    nats.nc.subscribe(s.annotRequest, {
      callback: (_e, m) => {
        requests.push(decodeAnnotationRequest(m.data).key);
      },
    });
    nats.nc.subscribe(s.annotResult, {
      callback: (_e, m) => {
        results.push(decodeAnnotationResult(m.data));
      },
    });
    await start(ONI_EXP, prmJudge.baseUrl, true);
    await start(DOWN_EXP, "http://127.0.0.1:9", false);
  });

  after(async () => {
    abort.abort();
    for (const p of pipelines) await withDeadline(p.done, 5_000, "pipeline stop").catch(() => undefined);
    await oni?.stop();
    await oniJudge?.close();
    await prmJudge?.close();
    await nats?.close();
    await server?.stop();
  });

  async function publish(exp: string, id: string): Promise<void> {
    const t = makeTrajectory({ trajectoryId: id, experiment: exp, turns });
    await new DedupePublisher(nats, undefined).publish(
      experimentSubjects(exp).traj,
      contracts.Trajectory.encode(t).finish(),
      id,
    );
  }

  async function scored(exp: string, id: string): Promise<contracts.ScoredTrajectory> {
    const stream = experimentSubjects(exp).scoredStream;
    return waitFor(
      async () => {
        const info = await nats.jsm.streams.info(stream);
        for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
          const m = await nats.jsm.streams.getMessage(stream, { seq });
          const st = m ? decodeScoredTrajectory(m.data) : undefined;
          if (st?.trajectory?.trajectoryId === id) return st;
        }
        return undefined;
      },
      10_000,
      `${id} scored`,
    );
  }

  const channel = (st: contracts.ScoredTrajectory, name: string) => st.channels.find((c) => c.name === name);

  test("scores at once, annotates in the background, and a re-scored trajectory gets the intrinsic reward", async () => {
    const keys = turns.map((t) => stepAnnotationKey(t, 32));
    await publish(ONI_EXP, "first");
    const first = await scored(ONI_EXP, "first");
    // Scored before the judge (1.5 s per request) could answer: r_int = 0, store version 0.
    assert.deepEqual(channel(first, ONI_CHANNEL)?.perTurn, [0, 0]);
    assert.equal(channel(first, ONI_CHANNEL)?.producerVersion, "labels@0");
    assert.deepEqual(channel(first, PRM_CHANNEL)?.perTurn, [0.5, -0.25]);
    assert.equal(channel(first, PRM_CHANNEL)?.producerVersion, "prm-judge");
    assert.equal(first.reward, 1 + 0.25);

    const labelled = await waitFor(
      () => (results.flatMap((r) => Object.keys(r.labels)).length >= 2 ? results : undefined),
      10_000,
      "annotation results on the subject",
    );
    assert.deepEqual([...requests].sort(), [...keys].sort());
    const labels = Object.assign({}, ...labelled.map((r) => r.labels)) as Record<string, number>;
    assert.equal(labels[keys[0] ?? ""], 1);
    assert.equal(labels[keys[1] ?? ""], 0);

    const reader = await KvLabelStore.open(nats.nc, labelBucketName(ONI_EXP));
    assert.equal(reader.get(keys[0] ?? "", -1), 1);
    assert.equal(reader.get(keys[1] ?? "", -1), 0);

    await publish(ONI_EXP, "again");
    const again = await scored(ONI_EXP, "again");
    assert.deepEqual(channel(again, ONI_CHANNEL)?.perTurn, [1, 0]);
    assert.equal(channel(again, ONI_CHANNEL)?.producerVersion, `labels@${reader.version}`);
    assert.ok(reader.version >= 1);
    assert.ok(Math.abs(again.reward - (1 + 0.25 + 0.4)) < 1e-9);
    // The steps are labelled: they are not sent to the judge again.
    assert.equal(requests.length, 2);
  });

  test("publishes the trajectory with default PRM scores when the judge is down", async () => {
    await publish(DOWN_EXP, "down");
    const st = await scored(DOWN_EXP, "down");
    assert.deepEqual(channel(st, PRM_CHANNEL)?.perTurn, [0, 0]);
    assert.equal(channel(st, PRM_CHANNEL)?.gatePassed, false);
    assert.equal(st.reward, 1);
    const stream = experimentSubjects(DOWN_EXP).eventsStream;
    const ev = await waitFor(
      async () => {
        const info = await nats.jsm.streams.info(stream);
        for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
          const m = await nats.jsm.streams.getMessage(stream, { seq });
          const e = m ? decodeEvent(m.data) : undefined;
          if (e?.kind === "prm_judge_failed") return e;
        }
        return undefined;
      },
      10_000,
      "prm_judge_failed event",
    );
    assert.equal(ev.attributes.trajectoryId, "down");
  });
});
