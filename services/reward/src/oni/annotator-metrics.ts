import { counter, gauge, histogram, type ServiceContext } from "@sluice/common";

type Registry = ServiceContext["registry"];

/** Prometheus metrics of the ONI annotator. */
export class AnnotatorMetrics {
  readonly queueDepth;
  readonly inFlight;
  readonly labelLatency;
  readonly parseFailures;
  readonly labelsStored;
  readonly requests;
  readonly dropped;
  readonly requeued;

  constructor(registry: Registry) {
    this.queueDepth = gauge(registry, "sluice_oni_annotation_queue_depth", "unlabelled items waiting for the judge");
    this.inFlight = gauge(registry, "sluice_oni_annotation_in_flight", "items sent to the judge, not yet labelled");
    this.labelLatency = histogram(
      registry,
      "sluice_oni_label_latency_seconds",
      "time from first enqueue to label stored",
      [0.05, 0.2, 1, 5, 20, 60, 300, 1800],
    );
    this.parseFailures = counter(
      registry,
      "sluice_oni_parse_failures_total",
      "judge answers mapped to the default label",
    );
    this.labelsStored = counter(registry, "sluice_oni_labels_stored_total", "labels written to the label store");
    this.requests = counter(registry, "sluice_oni_judge_requests_total", "judge HTTP requests, by outcome", [
      "outcome",
    ]);
    this.dropped = counter(registry, "sluice_oni_backlog_dropped_total", "oldest items dropped by the backlog cap");
    this.requeued = counter(
      registry,
      "sluice_oni_backlog_requeued_total",
      "items returned to the backlog after a failure",
    );
  }
}
