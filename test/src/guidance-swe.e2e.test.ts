/**
 * Agent-RLVR end to end on a real SWE task: nats-server, the sandbox service (bubblewrap, the
 * real npm environment and verifier), the actor with guidance on, the reward pipeline and the
 * learner (with the in-memory engine, which records what it is asked to train). The scripted
 * policy fails first (it submits an unrelated edit) and fixes the bug only when its prompt
 * holds the failing-test feedback, so a pass proves that the verifier's feedback reached the
 * agent, that the re-attempt was graded, and that the learner trained on it, stripped.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  EventPublisher,
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  ensureExperimentStreams,
  experimentSpecSchema,
  experimentSubjects,
  openKv,
  openObjectStore,
  startGrpcServer,
  taskToJson,
  unpackFloat32,
  unpackInt32,
  withDeadline,
  type NatsHandles,
  type RunningGrpcServer,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { Actor, GatewayClient, type WireToolCall } from "@sluice/actor";
import { patchToToolCalls, startFakeGateway, type FakeReply, type FakeScript } from "@sluice/actor/internal";
import { Learner } from "@sluice/learner";
import { FakeEngine } from "@sluice/learner/internal";
import { RewardMetrics, startRewardPipeline } from "@sluice/reward";
import { sandboxRegistration } from "@sluice/sandbox";
import { minimistBugTask, startTestBackend, type TestBackend } from "@sluice/sandbox/internal";

const { OutcomeLevel } = contracts;
const EXP = "guidance-swe";
const RUN_DEADLINE_MS = 6 * 60_000;
const task = minimistBugTask();
const FAILING_TEST = task.FAIL_TO_PASS[0]!;

function reply(name: string, args: Record<string, unknown>, turn: number): FakeReply {
  const call: WireToolCall = {
    id: `call_${turn}`,
    type: "function",
    function: { name, arguments: JSON.stringify(args) },
  };
  const rendered = `<tool_call>${JSON.stringify({ name, arguments: args })}</tool_call>`;
  return {
    content: null,
    toolCalls: [call],
    finishReason: "tool_calls",
    actionTokenIds: Array.from(rendered.slice(0, 128), (ch) => ch.codePointAt(0) ?? 0),
  };
}

/**
 * Fails first: writes an unrelated file and submits (TESTS_FAIL). Fixes the bug (the gold
 * patch as editor calls) only when a user message quotes the failing test.
 */
const failsUntilShownFeedback: FakeScript = ({ request, turn }) => {
  const guided = request.messages.some((m) => m.role === "user" && (m.content ?? "").includes(FAILING_TEST));
  const plan = guided
    ? patchToToolCalls(task.patch)
    : [
        {
          name: "str_replace_editor",
          arguments: { command: "create", path: "/workspace/NOTES.md", file_text: "todo\n" },
        },
      ];
  const call = plan[turn] ?? { name: "submit", arguments: {} };
  return reply(call.name, call.arguments, turn);
};

void describe("Agent-RLVR on a SWE task", { timeout: RUN_DEADLINE_MS + 60_000 }, () => {
  let nats: NatsServerHandle;
  let nc: NatsHandles;
  let backend: TestBackend;
  let grpc: RunningGrpcServer;
  let workDir: string;

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), "sluice-guidance-e2e-"));
    chmodSync(workDir, 0o755);
    writeFileSync(join(workDir, "tasks.jsonl"), taskToJson(task) + "\n");
    nats = await startNatsServer();
    nc = await connectNats(nats.url, EXP);
    backend = await startTestBackend();
    const logger = createLogger({ experiment: EXP, component: "sandbox", level: "error" });
    const registry = createMetricsRegistry("sandbox", EXP);
    const cacheDir =
      process.env["SLUICE_CACHE_DIR"] ?? (process.getuid?.() === 0 ? "/var/cache/sluice" : join(workDir, "cache"));
    grpc = await startGrpcServer({
      port: 0,
      services: [
        sandboxRegistration({
          backend: backend.backend,
          registry,
          logger,
          swe: {
            cacheDir,
            tasksDir: workDir,
            toolTimeoutMs: 30_000,
            maxObservationBytes: 16 * 1024,
            maxPatchBytes: 1024 ** 2,
          },
        }),
      ],
      logger,
      registry,
    });
  });
  after(async () => {
    await grpc?.shutdown(2_000);
    await backend?.cleanup();
    await nc?.close();
    await nats?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** One step of one guided group of 2 on the minimist task, through every service. */
  async function runGuided(exp: string, guidance: Record<string, unknown>) {
    const names = experimentSubjects(exp);
    await ensureExperimentStreams(nc.jsm, exp);
    const spec = experimentSpecSchema.parse({
      steps: 1,
      seed: 5,
      environment: {
        name: "swe",
        config: { tasks: [join(workDir, "tasks.jsonl")], maxTurns: 6, toolTimeoutMs: 30_000 },
      },
      rollout: {
        groupSize: 2,
        groupsPerStep: 1,
        maxStaleness: 0,
        maxTurns: 6,
        episodeTimeoutMs: RUN_DEADLINE_MS - 30_000,
      },
      reward: { outcome: { source: "level" } },
      guidance: { enabled: true, trigger: "on_fail", maxRounds: 1, context: "strip", ...guidance },
    });
    const gw = await startFakeGateway(failsUntilShownFeedback);
    const abort = new AbortController();
    const quiet = (component: string) => createLogger({ experiment: exp, component, level: "error" });
    const engine = new FakeEngine(0);
    const pipeline = await startRewardPipeline({
      experiment: exp,
      config: spec.reward,
      nats: nc,
      blobs: await openObjectStore(nc.nc, names.blobBucket),
      events: new EventPublisher(nc, exp, "reward", quiet("reward")),
      logger: quiet("reward"),
      metrics: new RewardMetrics(createMetricsRegistry("reward", exp)),
      signal: abort.signal,
      fetchExpiresMs: 200,
    });
    const learner = new Learner({
      experiment: exp,
      spec,
      runDir: join(workDir, exp),
      nats: nc,
      engine,
      events: { emit: async () => undefined },
      logger: quiet("learner"),
      registry: createMetricsRegistry("learner", exp),
    });
    const actor = new Actor({
      actorId: "actor-0",
      experiment: exp,
      spec,
      nats: nc,
      kv: await openKv(nc.nc, names.kvBucket),
      blobs: await openObjectStore(nc.nc, names.blobBucket),
      gateway: new GatewayClient({ baseUrl: gw.url, model: "policy", requestTimeoutMs: 10_000 }),
      logger: quiet("actor"),
      registry: createMetricsRegistry("actor", exp),
      events: { emit: async () => undefined },
      sandboxAddress: `127.0.0.1:${grpc.port}`,
      pollIntervalMs: 50,
    });
    try {
      const learnerRun = learner.run(abort.signal);
      const actorRun = actor.run(abort.signal);
      const status = await withDeadline(learnerRun, RUN_DEADLINE_MS, "learner step on the guided group");
      const summary = await withDeadline(actorRun, 30_000, "actor run");
      assert.equal(summary.trajectoriesPublished, 4, "2 attempts + 2 guided re-attempts");
      const consumer = await nc.js.consumers.get(names.trajStream);
      const trajectories: contracts.Trajectory[] = [];
      for await (const m of await consumer.fetch({ max_messages: 4, expires: 2_000 })) {
        trajectories.push(contracts.Trajectory.decode(m.data));
        if (trajectories.length === 4) break;
      }
      return { status, actor, engine, gw, trajectories };
    } finally {
      abort.abort();
      await withDeadline(pipeline.done, 5_000, "reward pipeline stop").catch(() => undefined);
      await gw.close();
    }
  }

  void it("failing-test feedback reaches the agent; the guided re-attempt resolves and is trained on, stripped", async (ctx) => {
    const { status, actor, engine, gw, trajectories } = await runGuided(EXP, {});
    // The actor: both first attempts failed, both re-attempts were shown the feedback and resolved.
    const figures = actor.guidanceSnapshot()!;
    assert.deepEqual(
      {
        first: figures.firstAttempts,
        firstPassed: figures.firstPassed,
        re: figures.reattempts,
        rePassed: figures.reattemptsPassed,
      },
      { first: 2, firstPassed: 0, re: 2, rePassed: 2 },
    );
    assert.deepEqual(figures.byKind, { environment_feedback: { reattempts: 2, passed: 2 } });
    assert.equal(figures.spanUnknown, 0);

    // The trajectories: graded, recorded, linked to their parents.
    const byRound = (r: number) => trajectories.filter((t) => (t.guidanceRound ?? 0) === r);
    for (const t of byRound(0)) {
      assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL, t.outcome?.detail);
      assert.equal(t.groupSize, 4);
    }
    const guided = byRound(1);
    assert.equal(guided.length, 2);
    for (const t of guided) {
      assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED, t.outcome?.detail);
      assert.ok(byRound(0).some((p) => p.trajectoryId === t.guidedFromTrajectoryId));
      assert.equal(t.guidance.length, 1);
      const g = t.guidance[0]!;
      ctx.diagnostic(`guidance shown to ${t.trajectoryId}: ${JSON.stringify(g.text)}`);
      assert.equal(g.kind, "environment_feedback");
      assert.equal(g.source, "verifier_report");
      assert.match(g.text, new RegExp(FAILING_TEST.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      assert.match(g.text, /deeply equivalent/, "the assertion message from the test output");
      assert.ok(g.tokenEnd > g.tokenStart);
      // The span holds the feedback: the fake gateway's observation ids are the text's code points.
      const obs = unpackInt32(t.turns[0]!.observationTokenIds);
      assert.match(String.fromCodePoint(...obs.slice(g.tokenStart, g.tokenEnd)), /Feedback on your previous attempt/);
      // The agent saw it: the re-attempt's requests carried the guidance message.
      // Each attempt has its own gateway session, named after its trajectory (episode-runner.ts).
      const seen = gw.requests.filter((r) => r.sluice_session_id?.startsWith(`${t.trajectoryId}.`));
      assert.ok(seen.length > 0);
      assert.ok(seen[0]!.messages.some((m) => m.role === "user" && (m.content ?? "") === g.text));
    }
    // The failed attempt's report carries the failing test's assertion output for the feedback.
    const report = JSON.parse(byRound(0)[0]!.verifierReportJson) as { failure_messages?: Record<string, string[]> };
    assert.ok(report.failure_messages, "report has failure_messages");

    // The learner trained all four, the re-attempts with their guidance stripped.
    assert.equal(status.step, 1);
    assert.equal(status.trajectoriesTrained, 4);
    const sent = engine.forwardBackwardCalls.flatMap((c) => c.sequences);
    assert.equal(sent.length, 4);
    const texts = sent.map((s) => String.fromCodePoint(...unpackInt32(s.tokenIds)));
    for (const text of texts) assert.doesNotMatch(text, /Feedback on your previous attempt/);
    const resolvedIdx = texts.flatMap((x, i) => (x.includes("str_replace") && !x.includes("NOTES.md") ? [i] : []));
    assert.equal(resolvedIdx.length, 2, "the two re-attempts' actions are in the batch");
    for (const i of resolvedIdx) {
      const adv = unpackFloat32(sent[i]!.advantages).filter((a) => a !== 0);
      assert.ok(adv.length > 0 && adv.every((a) => a > 0), "guided successes get a positive advantage");
    }
    // The guidance-augmented data for a test-time reward model: (unguided transcript, pass/fail).
    const exported = readFileSync(join(workDir, EXP, "guided-data.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { guidance_round: number; passed: boolean; text: string });
    assert.deepEqual(exported.map((r) => [r.guidance_round, r.passed]).sort(), [
      [0, false],
      [0, false],
      [1, true],
      [1, true],
    ]);
    for (const r of exported) assert.doesNotMatch(r.text, /Feedback on your previous attempt/);
    // strip: the engine recomputed the behaviour logprobs of the stripped re-attempts.
    const recomputed = engine.computeLogprobsCalls.flatMap((c) =>
      c.sequences.map((b) => String.fromCodePoint(...unpackInt32(b))),
    );
    assert.equal(recomputed.length, 2);
    for (const text of recomputed) assert.ok(resolvedIdx.some((i) => texts[i] === text));
  });

  void it("update dpo: the (guided success, failed parent) pairs of the group train DPO with reference logprobs", async () => {
    const { status, engine, trajectories } = await runGuided(`${EXP}-dpo`, { update: "dpo", dpoBeta: 0.2 });
    assert.equal(status.step, 1);
    const calls = engine.forwardBackwardCalls;
    assert.ok(calls.length > 0);
    for (const c of calls) {
      assert.equal(c.loss?.kind, contracts.LossKind.LOSS_KIND_DPO);
      assert.ok(Math.abs((c.loss?.dpoBeta ?? 0) - 0.2) < 1e-6);
      assert.equal(c.totalSequencesInStep, 4, "two pairs");
    }
    const sent = calls.flatMap((c) => c.sequences);
    assert.equal(sent.length, 4);
    const text = (ids: Uint8Array) => String.fromCodePoint(...unpackInt32(ids));
    // Chosen (even rows) resolved with the gold edit; rejected (odd rows) wrote NOTES.md.
    sent.forEach((s, i) => {
      assert.equal(text(s.tokenIds).includes("NOTES.md"), i % 2 === 1, `row ${i}`);
      assert.doesNotMatch(text(s.tokenIds), /Feedback on your previous attempt/, "strip: x is the unguided prompt");
      assert.equal(s.refLogprobs.byteLength, s.tokenIds.byteLength - 4, "π_ref of every target");
    });
    const parents = new Set(
      trajectories.filter((t) => (t.guidanceRound ?? 0) === 1).map((t) => t.guidedFromTrajectoryId),
    );
    assert.equal(parents.size, 2, "each re-attempt pairs with its own failed parent");
  });
});
