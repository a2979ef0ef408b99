/**
 * The SWE pipeline across real processes and services: nats-server, the sandbox gRPC
 * service (bubblewrap backend, a real npm task environment), and the actor running the
 * "swe" environment against scripted policies served over the gateway's HTTP API.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  connectNats,
  contracts,
  createLogger,
  createMetricsRegistry,
  ensureExperimentStreams,
  experimentSpecSchema,
  experimentSubjects,
  KV_KEYS,
  loadTaskSet,
  openKv,
  REPO_ROOT,
  openObjectStore,
  startGrpcServer,
  taskToJson,
  validateTrajectory,
  withDeadline,
  type NatsHandles,
  type RunningGrpcServer,
  type SweTask,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { Actor, GatewayClient } from "@sluice/actor";
import { neverSubmitScript, oracleScript, startFakeGateway, type FakeScript } from "@sluice/actor/internal";
import { sandboxRegistration } from "@sluice/sandbox";
import { minimistBugTask, startTestBackend, type TestBackend } from "@sluice/sandbox/internal";

const { FailureKind, OutcomeLevel } = contracts;
// A cold run builds the npm environment (npm pack + install) before the first episode.
const RUN_DEADLINE_MS = 6 * 60_000;

// SLUICE_SWE_IT_TASKS points the test at another built task set.
const REPO_TASKS = process.env["SLUICE_SWE_IT_TASKS"] ?? join(REPO_ROOT, "tasks");

/**
 * The repository's first built task (tasks/ is produced by `sluice tasks build`), so the
 * oracle also proves a real task's gold patch; none when the task set is not there.
 */
function firstRepoTask(besides: string): { task: SweTask; file: string } | undefined {
  if (!existsSync(REPO_TASKS)) return undefined;
  const first = loadTaskSet([REPO_TASKS]).tasks.find((t) => t.task.env !== undefined && t.task.instance_id !== besides);
  return first ? { task: first.task, file: first.file } : undefined;
}

/** What the sandbox service needs for SWE (SweServiceOptions), sized for a test. */
function sweOptions(cacheDir: string, tasksDir: string) {
  return { cacheDir, tasksDir, toolTimeoutMs: 30_000, maxObservationBytes: 16 * 1024, maxPatchBytes: 1024 ** 2 };
}

void describe("swe pipeline: actor + sandbox service + verifier", { timeout: 2 * RUN_DEADLINE_MS + 60_000 }, () => {
  let nats: NatsServerHandle;
  let nc: NatsHandles;
  let backend: TestBackend;
  let grpc: RunningGrpcServer;
  let workDir: string;
  const task = minimistBugTask();
  const repoTask = firstRepoTask(task.instance_id);
  const oracleTasks = repoTask ? [task, repoTask.task] : [task];

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), "sluice-swe-it-"));
    // The env cache lives inside: the sandbox user (nobody) must be able to traverse to it.
    chmodSync(workDir, 0o755);
    writeFileSync(join(workDir, "tasks.jsonl"), taskToJson(task) + "\n");
    nats = await startNatsServer();
    nc = await connectNats(nats.url, "swe-it");
    backend = await startTestBackend();
    const logger = createLogger({ experiment: "swe-it", component: "sandbox", level: "error" });
    const registry = createMetricsRegistry("sandbox", "swe-it");
    grpc = await startGrpcServer({
      port: 0,
      services: [
        sandboxRegistration({
          backend: backend.backend,
          registry,
          logger,
          // SLUICE_CACHE_DIR lets repeated local runs reuse the built environment.
          // tasksDir: where the repository tasks' env.lockfile paths resolve (the fixture has none).
          swe: sweOptions(process.env["SLUICE_CACHE_DIR"] ?? join(workDir, "cache"), repoTask ? REPO_TASKS : workDir),
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

  /**
   * Runs one step of `tasks.length` groups of 2 through a real Actor (each task once: the
   * task source visits every task per epoch); returns the published trajectories.
   */
  async function runExperiment(experiment: string, script: FakeScript, maxTurns: number, tasks: readonly SweTask[]) {
    const expected = 2 * tasks.length;
    const taskFiles = [
      join(workDir, "tasks.jsonl"),
      ...(repoTask && tasks.includes(repoTask.task) ? [repoTask.file] : []),
    ];
    const names = experimentSubjects(experiment);
    await ensureExperimentStreams(nc.jsm, experiment);
    const kv = await openKv(nc.nc, names.kvBucket);
    const gw = await startFakeGateway(script);
    try {
      const spec = experimentSpecSchema.parse({
        steps: 1,
        seed: 3,
        environment: {
          name: "swe",
          config: {
            tasks: taskFiles,
            instances: tasks.map((t) => t.instance_id),
            maxTurns,
            toolTimeoutMs: 30_000,
          },
        },
        rollout: {
          groupSize: 2,
          groupsPerStep: tasks.length,
          maxStaleness: 0,
          maxTurns: 20,
          episodeTimeoutMs: RUN_DEADLINE_MS - 30_000,
        },
      });
      const actor = new Actor({
        actorId: "actor-0",
        experiment,
        spec,
        nats: nc,
        kv,
        blobs: await openObjectStore(nc.nc, names.blobBucket),
        gateway: new GatewayClient({ baseUrl: gw.url, model: "policy", requestTimeoutMs: 10_000 }),
        logger: createLogger({ experiment, component: "actor", level: "error" }),
        registry: createMetricsRegistry("actor", experiment),
        events: { emit: async () => undefined },
        sandboxAddress: `127.0.0.1:${grpc.port}`,
        pollIntervalMs: 50,
      });
      await kv.put(
        KV_KEYS.policy,
        contracts.PolicyRecord.encode({ version: 0, weightsUri: "", publishedAtMs: Date.now(), step: 0 }).finish(),
      );
      const ac = new AbortController();
      try {
        const summary = await withDeadline(actor.run(ac.signal), RUN_DEADLINE_MS, `${experiment} actor run`);
        assert.deepEqual(summary, {
          reason: "budget_exhausted",
          groupsAdmitted: tasks.length,
          trajectoriesPublished: expected,
        });
      } finally {
        ac.abort();
      }
      const consumer = await nc.js.consumers.get(names.trajStream);
      const msgs = await consumer.fetch({ max_messages: expected, expires: 2_000 });
      const out: contracts.Trajectory[] = [];
      for await (const m of msgs) {
        const t = contracts.Trajectory.decode(m.data);
        validateTrajectory(t);
        out.push(t);
        if (out.length === expected) break;
      }
      assert.equal(out.length, expected);
      return out;
    } finally {
      await gw.close();
    }
  }

  void it("the oracle's gold-patch tool calls resolve the task: submitted, RESOLVED, every call valid", async () => {
    const trajectories = await runExperiment("swe-oracle", oracleScript(oracleTasks), 20, oracleTasks);
    assert.deepEqual(
      [...new Set(trajectories.map((t) => t.taskId))].sort(),
      oracleTasks.map((t) => t.instance_id).sort(),
    );
    for (const t of trajectories) {
      const solved = oracleTasks.find((x) => x.instance_id === t.taskId);
      assert.ok(solved);
      assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE, t.failureDetail);
      assert.equal(t.environment, "swe");
      assert.equal(t.doneReason, "submitted");
      assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED, t.outcome?.detail);
      assert.equal(t.outcome?.score, 1);
      assert.equal(t.outcome?.submitted, true);
      assert.equal(t.outcome?.modified, true);
      const report = JSON.parse(t.verifierReportJson) as {
        resolved: boolean;
        auto_submitted: boolean;
        tests_status: { FAIL_TO_PASS: { success: string[] } };
      };
      assert.equal(report.resolved, true);
      assert.equal(report.auto_submitted, false);
      assert.deepEqual(report.tests_status.FAIL_TO_PASS.success.sort(), [...solved.FAIL_TO_PASS].sort());
      const calls = t.turns.flatMap((turn) => turn.toolCalls);
      assert.equal(calls.at(-1)?.name, "submit");
      if (solved === task) {
        assert.deepEqual(
          calls.map((c) => c.name),
          ["str_replace_editor", "submit"],
        );
      }
      for (const c of calls) {
        assert.equal(c.valid, true, c.error);
        assert.equal(c.exitCode, 0);
      }
    }
  });

  void it("a policy that never submits ends at max_turns with NO_SUBMIT", async () => {
    const trajectories = await runExperiment("swe-never", neverSubmitScript, 3, [task]);
    for (const t of trajectories) {
      assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE, t.failureDetail);
      assert.equal(t.doneReason, "max_turns");
      assert.equal(t.turns.length, 3);
      assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT);
      assert.equal(t.outcome?.submitted, false);
      assert.equal(t.outcome?.modified, false);
      assert.equal(t.outcome?.score, 0);
      assert.equal((JSON.parse(t.verifierReportJson) as { auto_submitted: boolean }).auto_submitted, false);
      assert.ok(t.turns.every((turn) => turn.toolCalls.every((c) => c.valid && c.exitCode === 0)));
    }
  });
});
