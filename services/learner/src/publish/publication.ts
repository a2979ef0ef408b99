import {
  counter,
  errorMessage,
  gauge,
  histogram,
  type EventInput,
  type Logger,
  type ServiceContext,
} from "@sluice/common";
import { PublishError } from "./errors.js";
import type { PublishedPolicy, WeightPublisher } from "./publisher.js";

type Registry = ServiceContext["registry"];

export interface PublicationOptions {
  publisher: WeightPublisher;
  registry: Registry;
  events: { emit(input: EventInput): Promise<void> };
  logger: Logger;
  now?: () => number;
}

/**
 * Runs the publisher for the learner and makes every outcome visible: duration and failure
 * metrics, a `weight_publish_failed` error event with the backend, URL and status. The first
 * publish of a learner (its startup version) failing is fatal — the server is unreachable or
 * misconfigured and nothing could be served; a later failure resolves `undefined` so the
 * learner keeps the last served version in the KV record and tries again after its next step.
 */
export class WeightPublication {
  private readonly duration;
  private readonly failures;
  private readonly version;
  private readonly lastSuccess;
  private published = false;
  private readonly now: () => number;

  constructor(private readonly o: PublicationOptions) {
    this.now = o.now ?? Date.now;
    this.duration = histogram(
      o.registry,
      "sluice_learner_weight_publish_duration_seconds",
      "time to make a new policy version servable on the inference backend (save + load)",
      [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
      ["backend"],
    );
    this.failures = counter(
      o.registry,
      "sluice_learner_weight_publish_failures_total",
      "policy versions the inference backend could not be given",
      ["backend"],
    );
    this.version = gauge(
      o.registry,
      "sluice_learner_served_policy_version",
      "newest policy version the inference backend serves",
    );
    this.lastSuccess = gauge(
      o.registry,
      "sluice_learner_weight_publish_last_success_timestamp_seconds",
      "when a policy version was last published to the inference backend",
    );
  }

  get backend(): string {
    return this.o.publisher.backend;
  }

  async publish(version: number, step: number): Promise<PublishedPolicy | undefined> {
    const { publisher } = this.o;
    const started = this.now();
    try {
      const out = await publisher.publish(version);
      const seconds = (this.now() - started) / 1000;
      this.duration.observe({ backend: publisher.backend }, seconds);
      this.version.set(version);
      this.lastSuccess.set(this.now() / 1000);
      if (publisher.backend !== "engine") {
        this.o.logger.info("policy published", {
          backend: publisher.backend,
          version,
          servedModel: out.servedModel,
          seconds,
        });
      }
      this.published = true;
      return out;
    } catch (err) {
      this.failures.inc({ backend: publisher.backend });
      const ctx: Record<string, unknown> = err instanceof PublishError ? err.context : {};
      const attributes: Record<string, string> = { backend: publisher.backend, version: String(version) };
      for (const key of ["url", "status", "attempts"] as const) {
        if (ctx[key] !== undefined) attributes[key] = String(ctx[key]);
      }
      const fatal = !this.published;
      await this.o.events.emit({
        kind: "weight_publish_failed",
        severity: "error",
        message: `${fatal ? "" : "policy stays at the last served version: "}${errorMessage(err)}`,
        step,
        attributes,
        values: { policy_version: version },
      });
      this.o.logger.error("weight publish failed", { err, version, fatal });
      if (fatal) throw err;
      return undefined;
    }
  }
}
