import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { REPO_ROOT, connectNats, experimentSubjects, waitFor, type NatsHandles } from "@sluice/common";
import {
  kubeSkip,
  startKubeCluster,
  startNatsServer,
  type KubeCluster,
  type NatsServerHandle,
} from "@sluice/common/internal";
import { TYPES } from "./kube/resources.js";
import { RestKubeApi } from "./kube/rest-client.js";
import * as scenario from "./testing/scenarios.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const NS = "experiments";
const OPERATOR_NS = "sluice-system";
const LEASE = { namespace: OPERATOR_NS, name: "sluice-operator" };

/**
 * The operator as it runs in a cluster — its real entrypoint (dist/main.js), the REST client, a
 * real nats-server — against a real kube-apiserver + kube-controller-manager + kube-scheduler,
 * with kwok making pods Ready (and completing Job pods). The scenarios are the ones the unit
 * tests run against the in-memory API server.
 */
void describe("operator against a real API server (kwok nodes)", { skip: kubeSkip }, () => {
  let cluster: KubeCluster;
  let nats: NatsServerHandle;
  let natsClient: NatsHandles;
  let api: RestKubeApi;
  let logDir: string;
  const operators = new Map<string, ChildProcess>();
  let driver: scenario.ClusterDriver;

  const startReplica = (identity: string): void => {
    const log = createWriteStream(join(logDir, `${identity}.log`));
    const proc = spawn(process.execPath, [join(HERE, "main.js")], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        KUBECONFIG: cluster.kubeconfig,
        SLUICE_OPERATOR_IDENTITY: identity,
        SLUICE_OPERATOR_NATS_URL: nats.url,
        SLUICE_OPERATOR_LEASE_NAMESPACE: OPERATOR_NS,
        SLUICE_OPERATOR_LEASE_DURATION_MS: "4000",
        SLUICE_OPERATOR_RENEW_DEADLINE_MS: "3000",
        SLUICE_OPERATOR_RETRY_PERIOD_MS: "500",
        SLUICE_OPERATOR_METRICS_PORT: "0",
        SLUICE_OPERATOR_GRPC_PORT: "0",
        SLUICE_OPERATOR_BIND: "127.0.0.1",
        // No volume provisioner here: a PVC would stay Pending and keep the learner unscheduled.
        SLUICE_OPERATOR_RUN_VOLUME: "emptyDir",
        SLUICE_OPERATOR_PROGRESS_INTERVAL_MS: "2000",
        SLUICE_OPERATOR_FINALIZER_TIMEOUT_MS: "20000",
        SLUICE_LOG_LEVEL: "debug",
      },
    });
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    operators.set(identity, proc);
  };

  const leaseHolder = async (): Promise<string | undefined> => {
    const l = await api.get({ ...TYPES.lease, ...LEASE });
    return (l?.spec as { holderIdentity?: string } | undefined)?.holderIdentity || undefined;
  };

  before(async () => {
    logDir = mkdtempSync(join(tmpdir(), "sluice-operator-int-"));
    [cluster, nats] = await Promise.all([startKubeCluster(), startNatsServer()]);
    natsClient = await connectNats(nats.url, "operator-int-test");
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    api = new RestKubeApi(kc, 30_000, "operator-int-test");
    const crd = join(REPO_ROOT, "helm", "sluice", "crds-generated", "rlexperiment.yaml");
    for (const args of [
      ["apply", "--server-side", "-f", crd],
      ["wait", "--for=condition=Established", "crd/rlexperiments.sluice.dev", "--timeout=60s"],
      ["create", "namespace", NS],
      ["create", "namespace", OPERATOR_NS],
    ]) {
      const r = await cluster.kubectl(args, { timeoutMs: 70_000 });
      assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    }
    startReplica("op-a");
    startReplica("op-b");
    driver = {
      api,
      namespace: NS,
      streamsExist: async (exp) => {
        try {
          await natsClient.jsm.streams.info(experimentSubjects(exp).trajStream);
          return true;
        } catch {
          return false;
        }
      },
      simulateReady: async () => undefined, // kwok does it
      learnerCompletesOnItsOwn: true,
      timeoutMs: 90_000,
    };
    await waitFor(leaseHolder, 60_000, "an operator replica to take the lease", 200);
  });

  after(async () => {
    for (const p of operators.values()) if (p.exitCode === null) p.kill("SIGTERM");
    await natsClient?.close();
    await nats?.stop();
    await cluster?.stop();
    if (process.env.SLUICE_KEEP_LOGS !== "1") rmSync(logDir, { recursive: true, force: true });
    else process.stderr.write(`operator logs kept in ${logDir}\n`);
  });

  void it("creates every child with owner references; conditions follow kwok's pods; Events recorded; kubectl columns", async () => {
    await scenario.createsEveryChildWithOwnerReferences(driver, "run1");
    await scenario.conditionsProgressAsPodsBecomeReady(driver, "run1");
    // The Event for a condition flip is recorded after the status write that the scenario waited
    // for, so it may land a moment later: wait for it (with a deadline) rather than list once.
    let reasons = new Set<string>();
    const seen = await waitFor(
      async () => {
        const events = (await api.list(TYPES.event, { namespace: NS })).items.filter(
          (e) => (e.involvedObject as { name: string }).name === "run1",
        );
        reasons = new Set(events.map((e) => e.reason as string));
        return reasons.has("LearnerSucceeded") ? true : undefined;
      },
      15_000,
      "the LearnerSucceeded Event",
      250,
    ).catch(() => false);
    assert.ok(seen, `events: ${[...reasons].join(", ")}`);
    const get = await cluster.kubectl(["get", "rlexp", "run1", "-n", NS]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout.split("\n")[0] ?? "", /PHASE/);
    assert.match(get.stdout, /Succeeded/);
    const wait = await cluster.kubectl(["wait", "--for=condition=Complete", "rlexp/run1", "-n", NS, "--timeout=30s"], {
      timeoutMs: 40_000,
    });
    assert.equal(wait.code, 0, wait.stderr);
  });

  void it("deleting runs the finalizer: NATS streams removed, children garbage-collected", async () => {
    await scenario.deleteRunsTheFinalizer(driver, "run1");
  });

  void it("suspend scales the workloads to zero and keeps the streams; resume brings them back", async () => {
    await scenario.suspendScalesDownAndResumes(driver, "run2");
    await scenario.deleteRunsTheFinalizer(driver, "run2");
  });

  void it("does not admit a spec that fails validation", async () => {
    await scenario.invalidSpecIsNotAdmitted(driver, "bad1");
  });

  void it("kubectl-sluice launches a local spec file and shows its status", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubectl-sluice-"));
    const file = join(dir, "spec.yaml");
    writeFileSync(
      file,
      readFileSync(join(REPO_ROOT, "examples", "toy.yaml"), "utf8").replace("name: toy\n", "name: cli-toy\n"),
    );
    const cli = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        const p = spawn(process.execPath, [
          join(HERE, "kubectl-sluice.js"),
          ...args,
          "--kubeconfig",
          cluster.kubeconfig,
        ]);
        let out = "";
        p.stdout.on("data", (d: Buffer) => (out += d.toString()));
        p.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const t = setTimeout(() => p.kill("SIGKILL"), 30_000);
        p.on("exit", (code) => {
          clearTimeout(t);
          resolve({ code: code ?? 1, out });
        });
      });
    const launched = await cli(["launch", "-f", file, "-n", NS]);
    assert.equal(launched.code, 0, launched.out);
    await scenario.waitForCondition(driver, "cli-toy", "Admitted", "True");
    const status = await cli(["status", "cli-toy", "-n", NS]);
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /Admitted +True +SpecValid/);
    rmSync(dir, { recursive: true, force: true });
  });

  void it("two replicas: when the leader is killed the other takes the lease and reconciles", async () => {
    const leader = await waitFor(leaseHolder, 10_000, "lease holder");
    const standby = [...operators.keys()].find((k) => k !== leader)!;
    const killedAt = Date.now();
    operators.get(leader)!.kill("SIGKILL");
    const next = await waitFor(
      async () => {
        const h = await leaseHolder();
        return h && h !== leader ? h : undefined;
      },
      30_000,
      "the standby to take the lease",
      200,
    );
    assert.equal(next, standby);
    const takeoverMs = Date.now() - killedAt;
    process.stderr.write(`leader takeover after ${takeoverMs} ms (lease 4000 ms)\n`);
    await api.create({
      apiVersion: "sluice.dev/v1alpha1",
      kind: "RLExperiment",
      metadata: { name: "after-takeover", namespace: NS },
      spec: { steps: 2, environment: { name: "digits" }, suspend: true },
    });
    await scenario.waitForCondition(driver, "after-takeover", "Suspended", "True", "SuspendRequested");
  });
});
