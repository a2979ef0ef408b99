import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitFor } from "@sluice/common";
import { DEFAULT_OPERATOR_CONFIG } from "./config.js";
import { realClock } from "./controller/clock.js";
import { LABELS } from "./constants.js";
import { TYPES } from "./kube/resources.js";
import { startOperator, type OperatorHandle } from "./operator.js";
import { FakeKubeApi } from "./testing/fake-kube-api.js";
import { FakeProgress, FakeStreams, rlExperiment, testLogger } from "./testing/fakes.js";
import * as scenario from "./testing/scenarios.js";

const NS = "team-a";

/** The controller's job in the fake: kwok + kube-controller-manager marking workloads ready. */
async function markReady(api: FakeKubeApi, exp: string): Promise<void> {
  for (const d of api.all(TYPES.deployment, NS).filter((o) => o.metadata.labels?.[LABELS.experiment] === exp)) {
    const replicas = (d.spec as { replicas: number }).replicas;
    api.setStatus({ ...TYPES.deployment, namespace: NS, name: d.metadata.name }, { replicas, readyReplicas: replicas });
  }
  for (const j of api.all(TYPES.job, NS).filter((o) => o.metadata.labels?.[LABELS.experiment] === exp)) {
    api.setStatus({ ...TYPES.job, namespace: NS, name: j.metadata.name }, { active: 1, ready: 1 });
  }
}

void describe("operator against the in-memory API server", () => {
  const api = new FakeKubeApi();
  const streams = new FakeStreams();
  const progress = new FakeProgress();
  let op: OperatorHandle;
  const driver: scenario.ClusterDriver = {
    api,
    namespace: NS,
    streamsExist: async (exp) => streams.present.has(exp),
    simulateReady: (exp) => markReady(api, exp),
    learnerCompletesOnItsOwn: false,
    timeoutMs: 15_000,
  };

  before(async () => {
    op = startOperator({
      api,
      streams,
      progress,
      clock: realClock,
      logger: testLogger(),
      config: { ...DEFAULT_OPERATOR_CONFIG, progressIntervalMs: 200, finalizerTimeoutMs: 1_000 },
      identity: "op-0",
      leaseNamespace: "sluice-system",
      leaseTimings: { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 100 },
      rateLimits: { baseDelayMs: 20, maxDelayMs: 500, qps: 100, burst: 100 },
    });
    await waitFor(() => (op.isLeader() ? true : undefined), 15_000, "leadership");
  });
  after(async () => op.stop());

  void it("creates every child with an owner reference, then conditions follow readiness, suspend and delete", async () => {
    await scenario.createsEveryChildWithOwnerReferences(driver, "exp1");
    await scenario.conditionsProgressAsPodsBecomeReady(driver, "exp1");
    await scenario.deleteRunsTheFinalizer(driver, "exp1");
    await scenario.suspendScalesDownAndResumes(driver, "exp2");
    await scenario.deleteRunsTheFinalizer(driver, "exp2");
  });

  void it("does not admit a spec that fails validation", async () => {
    await scenario.invalidSpecIsNotAdmitted(driver, "bad1");
  });

  void it("reports progress from the learner's policy record, at a bounded rate", async () => {
    await api.create(rlExperiment("prog", NS));
    await scenario.waitForCondition(driver, "prog", "Admitted", "True");
    progress.records.set("prog", { step: 3, policyVersion: 3, publishedAtMs: Date.parse("2026-01-01T00:00:00Z") });
    const obj = await waitFor(
      async () => {
        const o = await scenario.getExperiment(driver, "prog");
        return (o?.status as { progress?: { step: number } } | undefined)?.progress?.step === 3 ? o : undefined;
      },
      15_000,
      "progress step 3",
    );
    const p = (obj.status as { progress: { policyVersion: number; lastCheckpoint: { step: number } } }).progress;
    assert.equal(p.policyVersion, 3);
    assert.equal(p.lastCheckpoint.step, 2, "checkpointEvery 2: the last checkpoint before step 3 is step 2");
  });

  void it("marks the experiment Complete when the learner Job completes and deletes the workloads (cleanup DeleteWorkloads)", async () => {
    await api.create(rlExperiment("done", NS));
    await scenario.waitForCondition(driver, "done", "Admitted", "True");
    await waitFor(() => api.all(TYPES.job, NS).find((j) => j.metadata.name === "done-learner"), 15_000, "job");
    api.setStatus(
      { ...TYPES.job, namespace: NS, name: "done-learner" },
      { conditions: [{ type: "Complete", status: "True" }], succeeded: 1 },
    );
    const obj = await scenario.waitForCondition(driver, "done", "Complete", "True", "LearnerSucceeded");
    assert.equal((obj.status as { phase: string }).phase, "Succeeded");
    await waitFor(
      () =>
        api.all(TYPES.deployment, NS).some((d) => d.metadata.labels?.[LABELS.experiment] === "done") ? undefined : true,
      15_000,
      "workloads deleted",
    );
    assert.ok(
      api.all(TYPES.configMap, NS).some((c) => c.metadata.name === "done-config"),
      "the config stays",
    );
    assert.equal(streams.present.has("done"), true, "DeleteWorkloads keeps the streams");
  });

  void it("reports NATS trouble as Degraded (NatsUnavailable) and recovers", async () => {
    streams.failing = true;
    await api.create(rlExperiment("natsdown", NS));
    await scenario.waitForCondition(driver, "natsdown", "Degraded", "True", "NatsUnavailable");
    streams.failing = false;
    await scenario.waitForCondition(driver, "natsdown", "Degraded", "False", "AsExpected");
  });

  void it("lets go of the finalizer after its deadline when NATS cannot be cleaned, with a Warning event", async () => {
    await api.create(rlExperiment("stuck", NS));
    await scenario.waitForCondition(driver, "stuck", "Admitted", "True");
    streams.failing = true;
    const started = Date.now();
    await api.delete({ ...TYPES.experiment, namespace: NS, name: "stuck" });
    await waitFor(
      async () => ((await scenario.getExperiment(driver, "stuck")) ? undefined : true),
      15_000,
      "stuck deleted",
    );
    streams.failing = false;
    assert.ok(Date.now() - started >= 900, "it waited for the deadline first");
    const warnings = api.all(TYPES.event, NS).filter((e) => e.reason === "FinalizerDeadlineExceeded");
    assert.equal(warnings.length, 1);
  });
});
