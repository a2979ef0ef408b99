import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMetricsRegistry, startMetricsServer, waitFor } from "@sluice/common";
import { DEFAULT_OPERATOR_CONFIG } from "./config.js";
import { realClock } from "./controller/clock.js";
import { TYPES } from "./kube/resources.js";
import { OperatorMetrics } from "./metrics.js";
import { startOperator, type OperatorHandle } from "./operator.js";
import { FakeKubeApi } from "./testing/fake-kube-api.js";
import { FakeProgress, FakeStreams, rlExperiment, testLogger } from "./testing/fakes.js";
import { waitForCondition, type ClusterDriver } from "./testing/scenarios.js";

void describe("two operator replicas", () => {
  void it("only the leader reconciles; when it dies the other takes over and reconciles; metrics and readiness follow", async () => {
    const api = new FakeKubeApi();
    const streams = new FakeStreams();
    const registry = createMetricsRegistry("operator", "-");
    const metrics = new OperatorMetrics(registry);
    const replica = (identity: string, withMetrics: boolean): OperatorHandle =>
      startOperator({
        api,
        streams,
        progress: new FakeProgress(),
        clock: realClock,
        logger: testLogger(identity),
        config: { ...DEFAULT_OPERATOR_CONFIG, progressIntervalMs: 200 },
        identity,
        leaseNamespace: "sluice-system",
        leaseTimings: { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 100 },
        ...(withMetrics ? { metrics } : {}),
      });
    const a = replica("a", true);
    await waitFor(() => (a.isLeader() ? true : undefined), 15_000, "a leads");
    const b = replica("b", false);
    const driver: ClusterDriver = {
      api,
      namespace: "ns",
      streamsExist: async (e) => streams.present.has(e),
      simulateReady: async () => undefined,
      learnerCompletesOnItsOwn: false,
      timeoutMs: 15_000,
    };
    await api.create(rlExperiment("one", "ns"));
    await waitForCondition(driver, "one", "Admitted", "True");
    assert.equal(b.isLeader(), false);
    assert.equal(b.controller(), undefined, "the standby runs no controller");
    assert.equal(b.ready(), true, "a standby is ready");
    await waitFor(() => (a.ready() ? true : undefined), 15_000, "leader informers synced");

    const health = await startMetricsServer(registry, 0, "127.0.0.1", () => a.ready());
    const body = await (await fetch(`http://127.0.0.1:${health.port}/metrics`)).text();
    assert.match(body, /sluice_operator_reconciles_total\{result="(success|requeue)"/);
    assert.match(body, /sluice_operator_reconcile_duration_seconds_bucket/);
    assert.match(body, /sluice_operator_queue_depth/);
    assert.match(body, /sluice_operator_informer_last_event_timestamp_seconds\{kind="RLExperiment"/);
    assert.equal((await fetch(`http://127.0.0.1:${health.port}/readyz`)).status, 200);
    await health.close();

    await a.stop(false); // a crash: the lease is not released
    await waitFor(() => (b.isLeader() ? true : undefined), 15_000, "b takes over");
    await api.create(rlExperiment("two", "ns"));
    await waitForCondition(driver, "two", "Admitted", "True");
    const lease = await api.get({ ...TYPES.lease, namespace: "sluice-system", name: "sluice-operator" });
    assert.equal((lease?.spec as { holderIdentity: string }).holderIdentity, "b");
    await b.stop();
  });
});
