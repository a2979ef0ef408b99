import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  EVAL_TASK_OFFSET,
  KV_KEYS,
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  ensureExperimentStreams,
  experimentSpecSchema,
  experimentSubjects,
  openKv,
  withDeadline,
  type EventInput,
  type KV,
  type NatsHandles,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { Actor } from "./actor.js";
import { GatewayClient } from "./gateway-client.js";
import { countingScript, startFakeGateway, type FakeGateway } from "./testing/fake-gateway.js";

void describe("final evaluation (spec.evaluation) against a real nats-server", () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let gw: FakeGateway;

  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "evaluation-it");
    gw = await startFakeGateway(countingScript);
  });
  after(async () => {
    await gw?.close();
    await nats?.close();
    await server?.stop();
  });

  const setup = async (exp: string): Promise<{ kv: KV; names: ReturnType<typeof experimentSubjects> }> => {
    await ensureExperimentStreams(nats.jsm, exp);
    const names = experimentSubjects(exp);
    return { kv: await openKv(nats.nc, names.kvBucket), names };
  };
  const publishPolicy = (kv: KV, version: number, step: number) =>
    kv.put(
      KV_KEYS.policy,
      contracts.PolicyRecord.encode({ version, weightsUri: "", publishedAtMs: Date.now(), step }).finish(),
    );
  const count = async (stream: string, subject: string): Promise<number> =>
    (await nats.jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
  const actor = (exp: string, kv: KV, id: string, events: EventInput[], evaluation: Record<string, unknown>) =>
    new Actor({
      actorId: id,
      experiment: exp,
      spec: experimentSpecSchema.parse({
        steps: 1,
        seed: 11,
        environment: { name: "digits", config: { turns: 2 } },
        rollout: { groupSize: 2, groupsPerStep: 1, maxStaleness: 0, maxConcurrentEpisodes: 6, episodeTimeoutMs: 5_000 },
        evaluation: { enabled: true, ...evaluation },
      }),
      nats,
      kv,
      gateway: new GatewayClient({ baseUrl: gw.url, model: "policy", requestTimeoutMs: 5_000 }),
      logger: createLogger({ experiment: exp, component: "actor", level: "error" }),
      registry: createMetricsRegistry("actor", exp),
      events: { emit: async (e) => void events.push(e) },
      pollIntervalMs: 25,
    });

  void it("after the last step, actors share the held-out tasks and sample each N times with the final policy", async () => {
    const exp = "eval-it";
    const { kv, names } = await setup(exp);
    const events: EventInput[] = [];
    const evaluation = { tasks: 5, samplesPerTask: 3 };
    const actors = [actor(exp, kv, "actor-0", events, evaluation), actor(exp, kv, "actor-1", events, evaluation)];
    const ac = new AbortController();
    const runs = actors.map((a) => a.run(ac.signal));
    try {
      await publishPolicy(kv, 0, 0);
      // The training budget (one group of 2) is spent; evaluation waits for the policy of step 1.
      const deadline = Date.now() + 10_000;
      while ((await count(names.trajStream, names.traj)) < 2) {
        assert.ok(Date.now() < deadline, "the training group was not published");
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await count(names.trajStream, names.eval), 0, "no evaluation before the final policy");

      await publishPolicy(kv, 1, 1);
      const summaries = await withDeadline(Promise.all(runs), 15_000, "actors");
      const tasksRun = summaries.map((s) => s.evaluation?.tasksRun ?? 0);
      assert.equal(
        tasksRun.reduce((a, b) => a + b, 0),
        5,
        `every task run once across actors (${tasksRun.join(" + ")})`,
      );
      assert.ok(summaries.every((s) => s.evaluation?.reason === "done" && s.evaluation.policyVersion === 1));
      assert.equal(await count(names.trajStream, names.eval), 15);
      assert.equal(await count(names.trajStream, names.traj), 2, "evaluation samples are not training data");
      assert.equal(events.filter((e) => e.kind === "evaluation_finished").length, 2);

      const consumer = await nats.js.consumers.get(names.trajStream, { filter_subjects: names.eval });
      const seen: contracts.Trajectory[] = [];
      for await (const m of await consumer.fetch({ max_messages: 15, expires: 2_000 })) {
        seen.push(contracts.Trajectory.decode(m.data));
        if (seen.length === 15) break;
      }
      const ids = seen.map((t) => t.trajectoryId).sort();
      const want = [0, 1, 2, 3, 4].flatMap((k) => [0, 1, 2].map((i) => `e${k}-${i}`)).sort();
      assert.deepEqual(ids, want);
      for (const t of seen) {
        const k = Number(t.groupId.slice(1));
        assert.equal(t.taskId, `digits-11-${EVAL_TASK_OFFSET + k}`, "task indices training never draws");
        assert.equal(t.admittedPolicyVersion, 1);
        assert.equal(t.groupSize, 3);
        assert.equal(t.guidance.length, 0);
      }
    } finally {
      ac.abort();
      await Promise.allSettled(runs);
    }
  });

  void it("without a final policy by the deadline it reports an error event and gives up", async () => {
    const exp = "eval-deadline-it";
    const { kv } = await setup(exp);
    const events: EventInput[] = [];
    const ac = new AbortController();
    const run = actor(exp, kv, "actor-0", events, { tasks: 2, deadlineMs: 300 }).run(ac.signal);
    try {
      await publishPolicy(kv, 0, 0);
      const summary = await withDeadline(run, 10_000, "actor");
      assert.equal(summary.evaluation?.reason, "deadline");
      assert.equal(summary.evaluation?.samplesPublished, 0);
      const failed = events.find((e) => e.kind === "evaluation_failed");
      assert.ok(failed, "evaluation_failed event");
      assert.match(failed.message ?? "", /no policy of step 1 within 300 ms \(newest: step 0\)/);
    } finally {
      ac.abort();
      await run.catch(() => undefined);
    }
  });
});
