import assert from "node:assert/strict";
import { waitFor } from "@sluice/common";
import { FINALIZER, LABELS } from "../constants.js";
import { KubeApiError } from "../errors.js";
import { TYPES } from "../kube/resources.js";
import type { KubeApi, KubeObject, ResourceType } from "../kube/types.js";
import { rlExperiment } from "./fakes.js";

/**
 * Behaviour of the operator as a user sees it, written once and run twice: against the
 * in-memory API server (unit tests) and against a real kube-apiserver with kwok (integration
 * tests), so the fake cannot drift from Kubernetes without a test noticing.
 */
export interface ClusterDriver {
  api: KubeApi;
  namespace: string;
  /** Whether the experiment's NATS streams exist. */
  streamsExist(experiment: string): Promise<boolean>;
  /** Brings the experiment's pods to ready (the fake sets statuses; a real cluster has kwok). */
  simulateReady(experiment: string): Promise<void>;
  /**
   * Job pods finish by themselves (kwok's default stages complete a Job's pod right after it
   * runs), so the learner completes without the test doing anything.
   */
  learnerCompletesOnItsOwn: boolean;
  /** Deadline of each wait in a scenario. */
  timeoutMs: number;
}

/** Children stay after the run finishes, so the assertions can see them. */
const KEEP = { runPolicy: { cleanup: { onSuccess: "None" } } };

interface Condition {
  type: string;
  status: string;
  reason: string;
}

export async function getExperiment(d: ClusterDriver, name: string): Promise<KubeObject | undefined> {
  return d.api.get({ ...TYPES.experiment, namespace: d.namespace, name });
}

export function conditionOf(obj: KubeObject | undefined, type: string): Condition | undefined {
  return ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
}

export async function waitForCondition(
  d: ClusterDriver,
  name: string,
  type: string,
  status: string,
  reason?: string,
): Promise<KubeObject> {
  return waitFor(
    async () => {
      const obj = await getExperiment(d, name);
      const c = conditionOf(obj, type);
      return c && c.status === status && (reason === undefined || c.reason === reason) ? obj : undefined;
    },
    d.timeoutMs,
    `${name}: condition ${type}=${status}${reason ? ` (${reason})` : ""}`,
    100,
  );
}

async function children(d: ClusterDriver, name: string, type: ResourceType): Promise<KubeObject[]> {
  return (await d.api.list(type, { namespace: d.namespace, labelSelector: `${LABELS.experiment}=${name}` })).items;
}

async function setSuspend(d: ClusterDriver, name: string, suspend: boolean): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const obj = await getExperiment(d, name);
    assert.ok(obj, `${name} exists`);
    try {
      await d.api.replace({ ...obj, spec: { ...(obj.spec as object), suspend } });
      return;
    } catch {
      // a status write raced us: read again
    }
  }
  throw new Error(`could not set suspend on ${name}`);
}

/** Apply an RLExperiment: every child appears, owned by it; streams exist; Admitted. */
export async function createsEveryChildWithOwnerReferences(d: ClusterDriver, name: string): Promise<void> {
  const created = await d.api.create(rlExperiment(name, d.namespace, KEEP));
  const obj = await waitForCondition(d, name, "Admitted", "True", "SpecValid");
  assert.ok(obj.metadata.finalizers?.includes(FINALIZER), "the finalizer guards the NATS streams");
  const expected: [ResourceType, string[]][] = [
    [TYPES.configMap, [`${name}-config`]],
    [TYPES.deployment, [`${name}-actors`, `${name}-gateway`, `${name}-reward`, `${name}-sandboxes`]],
    [TYPES.service, [`${name}-gateway`, `${name}-learner`, `${name}-reward`, `${name}-sandboxes`]],
    [TYPES.job, [`${name}-learner`]],
    [TYPES.networkPolicy, [`${name}-sandbox-pods`]],
  ];
  for (const [type, names] of expected) {
    const got = await waitFor(
      async () => {
        const items = await children(d, name, type);
        return items.length >= names.length ? items : undefined;
      },
      d.timeoutMs,
      `${name}: ${type.kind} children`,
      100,
    );
    assert.deepEqual(got.map((o) => o.metadata.name).sort(), names);
    for (const o of got) {
      const owners = o.metadata.ownerReferences ?? [];
      assert.equal(owners.length, 1, `${o.kind} ${o.metadata.name} has one owner`);
      assert.equal(owners[0]!.uid, created.metadata.uid);
      assert.equal(owners[0]!.controller, true);
    }
  }
  const actors = (await children(d, name, TYPES.deployment)).find((o) => o.metadata.name === `${name}-actors`);
  assert.equal((actors?.spec as { replicas: number }).replicas, 2, "actors follow rollout.actors");
  const degraded = conditionOf(await getExperiment(d, name), "Degraded");
  assert.notEqual(degraded?.reason, "ApplyFailed", "the API server accepted every child");
  assert.equal(await d.streamsExist(name), true, "the operator created the NATS streams");
}

/**
 * Pods become ready: per-component ready counts follow; with a learner that keeps running the
 * experiment is Running (ComponentsReady, Progressing=Training); with one that completes (kwok)
 * it ends Complete (LearnerSucceeded), phase Succeeded.
 */
export async function conditionsProgressAsPodsBecomeReady(d: ClusterDriver, name: string): Promise<void> {
  await d.simulateReady(name);
  type Status = { phase: string; ready: string; components: Record<string, { ready: number; replicas: number }> };
  const obj = await waitFor(
    async () => {
      const o = await getExperiment(d, name);
      const c = (o?.status as Status | undefined)?.components;
      const deploymentsReady = ["gateway", "sandboxes", "reward", "actors"].every(
        (k) => c?.[k] && c[k].ready === c[k].replicas,
      );
      return deploymentsReady ? o : undefined;
    },
    d.timeoutMs,
    `${name}: every Deployment ready`,
    100,
  );
  assert.deepEqual((obj.status as Status).components.actors, { replicas: 2, ready: 2 });
  if (!d.learnerCompletesOnItsOwn) {
    const running = await waitForCondition(d, name, "ComponentsReady", "True", "AllComponentsReady");
    const status = running.status as Status;
    assert.equal(status.phase, "Running");
    assert.equal(status.ready, "5/5");
    assert.equal(conditionOf(running, "Progressing")?.reason, "Training");
    assert.equal(conditionOf(running, "Degraded")?.status, "False");
    return;
  }
  const done = await waitForCondition(d, name, "Complete", "True", "LearnerSucceeded");
  assert.equal((done.status as Status).phase, "Succeeded");
  assert.equal(conditionOf(done, "Progressing")?.reason, "Finished");
  assert.ok((done.status as { completionTime?: string }).completionTime, "completionTime is set");
}

/**
 * suspend: true scales every workload to zero and suspends the Job (created suspended, so a
 * learner that completes on its own cannot finish first); streams stay; resume brings them back.
 */
export async function suspendScalesDownAndResumes(d: ClusterDriver, name: string): Promise<void> {
  await d.api.create(rlExperiment(name, d.namespace, { ...KEEP, suspend: true }));
  const suspended = await waitForCondition(d, name, "Suspended", "True", "SuspendRequested");
  assert.equal((suspended.status as { phase: string }).phase, "Suspended");
  const deployments = await waitFor(
    async () => {
      const items = await children(d, name, TYPES.deployment);
      return items.length === 4 ? items : undefined;
    },
    d.timeoutMs,
    `${name}: Deployments`,
    100,
  );
  for (const dep of deployments) {
    assert.equal((dep.spec as { replicas: number }).replicas, 0, `${dep.metadata.name} scaled to 0`);
  }
  const [job] = await children(d, name, TYPES.job);
  assert.equal((job?.spec as { suspend: boolean }).suspend, true, "the learner Job is suspended");
  assert.equal(await d.streamsExist(name), true, "suspend keeps the streams");

  await setSuspend(d, name, false);
  await waitForCondition(d, name, "Suspended", "False", "Resumed");
  const actors = (await children(d, name, TYPES.deployment)).find((o) => o.metadata.name === `${name}-actors`);
  assert.equal((actors?.spec as { replicas: number }).replicas, 2);
  const [resumed] = await children(d, name, TYPES.job);
  assert.equal((resumed?.spec as { suspend: boolean }).suspend, false);
}

/** Deleting the experiment runs the finalizer: the NATS streams go, then the object. */
export async function deleteRunsTheFinalizer(d: ClusterDriver, name: string): Promise<void> {
  await d.api.delete({ ...TYPES.experiment, namespace: d.namespace, name });
  await waitFor(async () => ((await getExperiment(d, name)) ? undefined : true), d.timeoutMs, `${name} deleted`, 100);
  assert.equal(await d.streamsExist(name), false, "the finalizer removed the NATS streams");
  // Owner references let the garbage collector take the children.
  await waitFor(
    async () => ((await children(d, name, TYPES.deployment)).length === 0 ? true : undefined),
    d.timeoutMs,
    `${name}: children garbage-collected`,
    200,
  );
}

/** A spec that does not validate is not admitted and gets no children. */
export async function invalidSpecIsNotAdmitted(d: ClusterDriver, name: string): Promise<void> {
  // A rule only the spec schema knows (the CRD's OpenAPI schema cannot say "path needs source path").
  try {
    await d.api.create(rlExperiment(name, d.namespace, { model: { source: "path" } }));
  } catch (err) {
    // The API server's own validation (a CEL rule in the CRD) rejected it: as good.
    if (err instanceof KubeApiError && err.status === 422) return;
    throw err;
  }
  const obj = await waitForCondition(d, name, "Admitted", "False", "InvalidSpec");
  assert.match(String((conditionOf(obj, "Admitted") as { message?: string } | undefined)?.message), /model\.path/);
  assert.equal((await children(d, name, TYPES.deployment)).length, 0);
}
