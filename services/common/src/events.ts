import { Event, Severity } from "./gen/sluice/v1/events.js";
import type { Logger } from "./logging.js";
import type { NatsHandles } from "./nats/connection.js";
import { experimentSubjects } from "./nats/subjects.js";

export type EventSeverity = "info" | "warning" | "error";

const SEVERITY: Record<EventSeverity, Severity> = {
  info: Severity.SEVERITY_INFO,
  warning: Severity.SEVERITY_WARNING,
  error: Severity.SEVERITY_ERROR,
};

export interface EventInput {
  kind: string;
  severity?: EventSeverity;
  message?: string;
  step?: number;
  attributes?: Record<string, string>;
  values?: Record<string, number>;
}

/**
 * The failure and progress channel of every component: events go to
 * sluice.<exp>.events (JetStream, so the orchestrator can read them after the fact)
 * and to the log. Publishing never throws: a broken event channel must not take the
 * component down, it is logged instead.
 */
export class EventPublisher {
  private readonly subject: string;
  constructor(
    private readonly nats: NatsHandles,
    private readonly experiment: string,
    private readonly component: string,
    private readonly logger: Logger,
  ) {
    this.subject = experimentSubjects(experiment).events;
  }

  async emit(input: EventInput): Promise<void> {
    const severity = input.severity ?? "info";
    const event: Event = {
      experiment: this.experiment,
      component: this.component,
      kind: input.kind,
      severity: SEVERITY[severity],
      message: input.message ?? "",
      step: input.step ?? 0,
      timeMs: Date.now(),
      attributes: input.attributes ?? {},
      values: input.values ?? {},
    };
    const log = severity === "error" ? this.logger.error : severity === "warning" ? this.logger.warn : this.logger.info;
    log(`event ${input.kind}`, {
      event: input.kind,
      eventMessage: input.message,
      ...input.attributes,
      ...input.values,
    });
    try {
      await this.nats.js.publish(this.subject, Event.encode(event).finish(), { timeout: 5_000 });
    } catch (err) {
      this.logger.error("event publish failed", { event: input.kind, err });
    }
  }
}

export function decodeEvent(data: Uint8Array): Event {
  return Event.decode(data);
}

export function severityName(s: Severity): EventSeverity {
  return s === Severity.SEVERITY_ERROR ? "error" : s === Severity.SEVERITY_WARNING ? "warning" : "info";
}
