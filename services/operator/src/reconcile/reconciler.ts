import { SluiceError, errorMessage, type Logger, type RLExperimentStatus } from "@sluice/common";
import { desiredChildren } from "../children/desired.js";
import type { OperatorConfig } from "../config.js";
import { CONDITION_TYPES as T, EVENT_REASONS, FINALIZER, LABELS, REASONS } from "../constants.js";
import type { Clock } from "../controller/clock.js";
import { isConflict } from "../errors.js";
import { readExperiment, type Experiment } from "../experiment.js";
import { TYPES } from "../kube/resources.js";
import { splitKey, type KubeApi, type KubeObject, type ObjectRef } from "../kube/types.js";
import { transitions } from "./conditions.js";
import type { EventRecorder } from "./events.js";
import { learnerOutcome, observeChildren, ownedBy } from "./observe.js";
import { progressDue, progressFrom, type ProgressSource } from "./progress.js";
import { stableJson } from "./stable-json.js";
import { computeStatus, invalidStatus, terminalOf } from "./status.js";
import type { ExperimentStreams } from "./streams.js";

export interface ReconcilerDeps {
  api: KubeApi;
  streams: ExperimentStreams;
  progress: ProgressSource;
  events: EventRecorder;
  clock: Clock;
  config: OperatorConfig;
  logger: Logger;
  /** Whether the JobSet CRD is installed (discovery, cached by the caller). */
  useJobSet: () => Promise<boolean>;
}

export interface ReconcileResult {
  /** Reconcile again after this long even without an event (progress polling, TTL, finalizer retry). */
  requeueAfterMs?: number;
  /** The reconcile hit a problem it reported in status; counted as an error, retried at requeueAfterMs. */
  failed?: boolean;
}

/** Some children or NATS could not be brought to the desired state; already reported on Degraded. */
export class ReconcileProblemsError extends SluiceError {
  constructor(experiment: string, problems: { reason: string; message: string }[]) {
    super(`${experiment}: ${problems.map((p) => p.message).join("; ")}`, { retryable: true, context: { experiment } });
    this.name = "ReconcileProblemsError";
  }
}

const WORKLOAD_TYPES = [
  TYPES.deployment,
  TYPES.service,
  TYPES.configMap,
  TYPES.job,
  TYPES.pvc,
  TYPES.networkPolicy,
  TYPES.serviceAccount,
  TYPES.roleBinding,
];

/**
 * Level-triggered reconcile of one RLExperiment: fetch → guards (deleted, finalizer, invalid
 * spec, finished) → named steps (NATS, apply children, prune, observe, progress) → one status
 * write → Events for the condition transitions that write made.
 */
export class Reconciler {
  private readonly lastProgressReadMs = new Map<string, number>();

  constructor(private readonly d: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const ref: ObjectRef = { ...TYPES.experiment, namespace, name };
    const obj = await this.d.api.get(ref);
    if (!obj) {
      this.lastProgressReadMs.delete(key);
      return {};
    }
    let exp = readExperiment(obj);
    if (exp.deletionTimestamp) return this.finalize(exp);
    if (!exp.finalizers.includes(FINALIZER)) exp = readExperiment(await this.addFinalizer(obj));
    if (!exp.spec) {
      await this.writeStatus(exp, invalidStatus(exp, exp.issues, this.d.clock.now()));
      return {};
    }
    return this.reconcileValid(exp, key);
  }

  private async reconcileValid(exp: Experiment, key: string): Promise<ReconcileResult> {
    const { api, config, clock } = this.d;
    const spec = exp.spec!;
    const now = clock.now();
    const useJobSet = await this.d.useJobSet();
    const observed = await observeChildren(api, exp, useJobSet);
    const outcome = learnerOutcome(observed.learner);
    const terminal =
      terminalOf(exp.status) ??
      (outcome.state === "running" ? undefined : outcome.state === "succeeded" ? "succeeded" : "failed");
    const cleanup = !terminal
      ? "None"
      : terminal === "succeeded"
        ? spec.runPolicy.cleanup.onSuccess
        : spec.runPolicy.cleanup.onFailure;

    const ttl = spec.runPolicy.ttlSecondsAfterFinished;
    if (terminal && ttl !== undefined && exp.status.completionTime) {
      const due = Date.parse(exp.status.completionTime) + ttl * 1000;
      if (now >= due) {
        this.d.logger.info("TTL after finish expired; deleting", { experiment: exp.name });
        await api.delete({ ...TYPES.experiment, namespace: exp.namespace, name: exp.name });
        return {};
      }
    }

    const problems: { reason: string; message: string }[] = [];
    await this.stepNats(exp, cleanup === "DeleteAll", problems);
    const desired = desiredChildren(exp, spec, {
      config,
      scaledDown: spec.suspend && !terminal,
      workloadsDeleted: terminal !== undefined && cleanup !== "None",
      useJobSet,
    });
    await this.stepApply(desired, problems);
    await this.stepPrune(exp, desired, useJobSet);
    const progress = await this.stepProgress(exp, key);

    const status = computeStatus({ exp, spec, observed, nowMs: now, progress, problems });
    await this.writeStatus(exp, status);
    if (problems.length > 0) throw new ReconcileProblemsError(exp.name, problems);

    if (terminal) {
      if (ttl === undefined) return {};
      const completion = Date.parse(status.completionTime ?? new Date(now).toISOString());
      return { requeueAfterMs: Math.max(1, completion + ttl * 1000 - now) };
    }
    // Polls the learner's progress while it runs; child and resource events trigger the rest.
    return spec.suspend ? {} : { requeueAfterMs: config.progressIntervalMs };
  }

  private async stepNats(
    exp: Experiment,
    remove: boolean,
    problems: { reason: string; message: string }[],
  ): Promise<void> {
    try {
      if (remove) await this.d.streams.remove(exp.name);
      else await this.d.streams.ensure(exp.name);
    } catch (err) {
      problems.push({
        reason: REASONS.natsUnavailable,
        message: `NATS: ${errorMessage(err)} (${errorMessage((err as Error).cause)})`,
      });
    }
  }

  private async stepApply(desired: KubeObject[], problems: { reason: string; message: string }[]): Promise<void> {
    for (const child of desired) {
      try {
        await this.d.api.apply(child);
      } catch (err) {
        problems.push({
          reason: REASONS.applyFailed,
          message: `${child.kind} ${child.metadata.name}: ${errorMessage(err)}`,
        });
      }
    }
  }

  /** Deletes children this experiment owns that are no longer wanted (backend switched, cleanup after finish). */
  private async stepPrune(exp: Experiment, desired: KubeObject[], useJobSet: boolean): Promise<void> {
    const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
    const types = useJobSet ? [...WORKLOAD_TYPES, TYPES.jobSet] : WORKLOAD_TYPES;
    const selector = { namespace: exp.namespace, labelSelector: `${LABELS.experiment}=${exp.name}` };
    for (const type of types) {
      const { items } = await this.d.api.list(type, selector);
      for (const o of items) {
        if (!ownedBy(o, exp) || wanted.has(`${o.kind}/${o.metadata.name}`)) continue;
        this.d.logger.info("deleting child no longer wanted", {
          experiment: exp.name,
          kind: o.kind,
          name: o.metadata.name,
        });
        await this.d.api.delete({ ...type, namespace: exp.namespace, name: o.metadata.name });
      }
    }
  }

  /** Reads the learner's published progress at most every progressIntervalMs; a failed read keeps the last. */
  private async stepProgress(exp: Experiment, key: string): Promise<RLExperimentStatus["progress"]> {
    const prev = exp.status.progress;
    const now = this.d.clock.now();
    const interval = this.d.config.progressIntervalMs;
    const lastRead = this.lastProgressReadMs.get(key);
    if (lastRead !== undefined && now - lastRead < interval) return prev;
    if (!progressDue(prev, now, interval)) return prev;
    this.lastProgressReadMs.set(key, now);
    try {
      const record = await this.d.progress.read(exp.name);
      if (!record) return prev;
      if (prev && prev.step === record.step && prev.policyVersion === record.policyVersion) return prev;
      return progressFrom(prev, record, exp.spec!, new Date(now).toISOString());
    } catch (err) {
      this.d.logger.warn("progress read failed", { experiment: exp.name, err: errorMessage(err) });
      return prev;
    }
  }

  /** The one status write (server-side apply on the status subresource), then Events for what flipped. */
  private async writeStatus(exp: Experiment, status: RLExperimentStatus): Promise<void> {
    if (stableJson(status) === stableJson(exp.status)) return;
    await this.d.api.apply(
      {
        apiVersion: exp.raw.apiVersion,
        kind: exp.raw.kind,
        metadata: { name: exp.name, namespace: exp.namespace },
        status,
      },
      { status: true },
    );
    for (const c of transitions(exp.status.conditions, status.conditions ?? [])) {
      const bad = (c.type === T.degraded || c.type === T.failed) && c.status === "True";
      const noisy = c.status === "False" && !exp.status.conditions?.some((p) => p.type === c.type);
      if (noisy) continue; // a condition born False (Degraded=False at creation) is not news
      await this.d.events.record(exp, bad ? "Warning" : "Normal", c.reason, `${c.type}=${c.status}: ${c.message}`);
    }
  }

  private async addFinalizer(obj: KubeObject): Promise<KubeObject> {
    return this.d.api.replace({
      ...obj,
      metadata: { ...obj.metadata, finalizers: [...(obj.metadata.finalizers ?? []), FINALIZER] },
    });
  }

  /**
   * Removes the experiment's NATS resources, then lets Kubernetes delete the object (children go
   * with it through their owner references). Past finalizerTimeoutMs from the deletion request
   * the finalizer is removed even if NATS could not be cleaned: deletion never blocks forever,
   * and the leftover is reported as a Warning event.
   */
  private async finalize(exp: Experiment): Promise<ReconcileResult> {
    if (!exp.finalizers.includes(FINALIZER)) return {};
    const now = this.d.clock.now();
    const deadline = Date.parse(exp.deletionTimestamp!) + this.d.config.finalizerTimeoutMs;
    try {
      await this.d.streams.remove(exp.name);
      await this.d.events.record(
        exp,
        "Normal",
        EVENT_REASONS.streamsRemoved,
        "NATS streams, KV and object buckets removed",
      );
    } catch (err) {
      if (now < deadline) {
        this.d.logger.warn("finalizer: NATS cleanup failed; retrying", {
          experiment: exp.name,
          err: errorMessage(err),
        });
        return { failed: true, requeueAfterMs: Math.max(1, Math.min(5_000, deadline - now)) };
      }
      await this.d.events.record(
        exp,
        "Warning",
        EVENT_REASONS.finalizerDeadline,
        `NATS resources of ${exp.name} could not be removed within ${this.d.config.finalizerTimeoutMs} ms; left behind: ${errorMessage(err)}`,
      );
    }
    await this.removeFinalizer(exp);
    return {};
  }

  private async removeFinalizer(exp: Experiment): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const obj =
        attempt === 0
          ? exp.raw
          : await this.d.api.get({ ...TYPES.experiment, namespace: exp.namespace, name: exp.name });
      if (!obj) return;
      try {
        await this.d.api.replace({
          ...obj,
          metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) },
        });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 2) throw err;
      }
    }
  }
}
