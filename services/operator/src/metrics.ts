import { counter, gauge, histogram } from "@sluice/common";
import type { Registry } from "prom-client";
import { METRICS } from "./constants.js";

export type ReconcileResultLabel = "success" | "error" | "requeue";

/** The operator's Prometheus metrics (registered on the process registry). */
export class OperatorMetrics {
  readonly reconciles;
  readonly reconcileDuration;
  readonly queueDepth;
  readonly lastInformerEvent;
  readonly relists;
  readonly isLeader;

  constructor(registry: Registry) {
    this.reconciles = counter(registry, METRICS.reconciles, "reconciles by result", ["result"]);
    this.reconcileDuration = histogram(
      registry,
      METRICS.reconcileDuration,
      "reconcile duration",
      [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.queueDepth = gauge(registry, METRICS.queueDepth, "keys waiting in the work queue");
    this.lastInformerEvent = gauge(registry, METRICS.lastInformerEvent, "unix time of the last list/watch event", [
      "kind",
    ]);
    this.relists = counter(registry, METRICS.informerRelists, "informer re-lists by reason", ["kind", "reason"]);
    this.isLeader = gauge(registry, METRICS.isLeader, "1 while this replica holds the leader lease");
  }
}
