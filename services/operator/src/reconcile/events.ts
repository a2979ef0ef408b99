import { randomBytes } from "node:crypto";
import { errorMessage, type Logger } from "@sluice/common";
import { FIELD_MANAGER } from "../constants.js";
import type { Experiment } from "../experiment.js";
import { TYPES } from "../kube/resources.js";
import type { KubeApi } from "../kube/types.js";

export type EventType = "Normal" | "Warning";

/** Kubernetes Events on an experiment (what `kubectl describe rlexp` shows). Never throws. */
export class EventRecorder {
  constructor(
    private readonly api: KubeApi,
    private readonly logger: Logger,
    private readonly instance: string,
    private readonly now: () => number,
  ) {}

  async record(
    exp: Pick<Experiment, "name" | "namespace" | "uid" | "raw">,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const t = new Date(this.now()).toISOString();
    try {
      await this.api.create({
        apiVersion: TYPES.event.apiVersion,
        kind: TYPES.event.kind,
        metadata: { name: `${exp.name}.${randomBytes(8).toString("hex")}`, namespace: exp.namespace },
        involvedObject: {
          apiVersion: exp.raw.apiVersion,
          kind: exp.raw.kind,
          name: exp.name,
          namespace: exp.namespace,
          uid: exp.uid,
          resourceVersion: exp.raw.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: FIELD_MANAGER },
        reportingComponent: "sluice.dev/operator",
        reportingInstance: this.instance,
        firstTimestamp: t,
        lastTimestamp: t,
        count: 1,
      });
    } catch (err) {
      this.logger.warn("event not recorded", { experiment: exp.name, reason, err: errorMessage(err) });
    }
  }
}
