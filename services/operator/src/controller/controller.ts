import { errorMessage, type Logger } from "@sluice/common";
import { LABELS, MANAGED_BY } from "../constants.js";
import { TYPES } from "../kube/resources.js";
import { keyOf, type KubeApi, type KubeObject, type ResourceType } from "../kube/types.js";
import type { OperatorMetrics } from "../metrics.js";
import type { Reconciler } from "../reconcile/reconciler.js";
import type { Clock } from "./clock.js";
import { Informer } from "./informer.js";
import { WorkQueue } from "./work-queue.js";
import type { RateLimiterOptions } from "./rate-limiter.js";

export interface ControllerOptions {
  api: KubeApi;
  reconciler: Pick<Reconciler, "reconcile">;
  clock: Clock;
  logger: Logger;
  metrics?: OperatorMetrics;
  /** Empty: every namespace. */
  namespace: string;
  workers: number;
  /** Informer watchdog: re-list after this long without a watch event. */
  stallMs: number;
  /** Watch JobSets as well (their CRD is installed). */
  jobSets: boolean;
  rateLimits?: RateLimiterOptions;
}

/** Children the operator watches: a change to any of them re-reconciles its experiment. */
const CHILD_TYPES: ResourceType[] = [TYPES.deployment, TYPES.job, TYPES.service, TYPES.configMap];

/**
 * Informers feed keys (namespace/name of an RLExperiment) into one de-duplicating, rate-limited
 * work queue; `workers` loops take keys and reconcile them. A key is never reconciled by two
 * workers at once; a failure retries with per-key backoff, a success forgets it.
 */
export class Controller {
  readonly queue: WorkQueue;
  readonly informers: Informer[];
  private workers: Promise<void>[] = [];
  private running = false;
  private readonly experiments: Informer;

  constructor(private readonly o: ControllerOptions) {
    this.queue = new WorkQueue(o.clock, o.rateLimits);
    const common = { namespace: o.namespace || undefined, clock: o.clock, logger: o.logger, stallMs: o.stallMs };
    const track = (kind: string) => (reason: string) => o.metrics?.relists.inc({ kind, reason });
    this.experiments = new Informer(o.api, TYPES.experiment, {
      ...common,
      onEvent: (_t, obj) => this.enqueue(obj.metadata.namespace, obj.metadata.name, TYPES.experiment.kind),
      onRelist: track(TYPES.experiment.kind),
    });
    const children = [...CHILD_TYPES, ...(o.jobSets ? [TYPES.jobSet] : [])].map(
      (type) =>
        new Informer(o.api, type, {
          ...common,
          labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
          onEvent: (_t, obj) => this.enqueueOwner(obj, type.kind),
          onRelist: track(type.kind),
        }),
    );
    this.informers = [this.experiments, ...children];
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const i of this.informers) i.start();
    for (let w = 0; w < this.o.workers; w++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const i of this.informers) i.stop();
    this.queue.shutdown();
    await Promise.all(this.workers);
    this.workers = [];
  }

  hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  private enqueue(namespace: string | undefined, name: string, kind: string): void {
    this.touch(kind);
    this.queue.add(keyOf(namespace, name));
    this.o.metrics?.queueDepth.set(this.queue.depth());
  }

  private enqueueOwner(obj: KubeObject, kind: string): void {
    const exp = obj.metadata.labels?.[LABELS.experiment];
    if (exp) this.enqueue(obj.metadata.namespace, exp, kind);
  }

  private touch(kind: string): void {
    this.o.metrics?.lastInformerEvent.set({ kind }, this.o.clock.now() / 1000);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.o.metrics?.queueDepth.set(this.queue.depth());
      const stopTimer = this.o.metrics?.reconcileDuration.startTimer();
      try {
        const result = await this.o.reconciler.reconcile(key);
        if (result.failed) {
          this.o.metrics?.reconciles.inc({ result: "error" });
        } else {
          this.queue.forget(key);
          this.o.metrics?.reconciles.inc({ result: result.requeueAfterMs ? "requeue" : "success" });
        }
        if (result.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const delayMs = this.queue.addRateLimited(key);
        this.o.metrics?.reconciles.inc({ result: "error" });
        this.o.logger.warn("reconcile failed; will retry", { key, delayMs, err: errorMessage(err) });
      } finally {
        stopTimer?.();
        this.queue.done(key);
      }
    }
  }
}
