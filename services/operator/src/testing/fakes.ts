import { createLogger, type Logger } from "@sluice/common";
import { API_VERSION, KIND } from "../constants.js";
import type { KubeObject } from "../kube/types.js";
import type { ProgressSource, PublishedPolicy } from "../reconcile/progress.js";
import type { ExperimentStreams } from "../reconcile/streams.js";

/** NATS resources in memory: which experiments have streams, with switchable failures. */
export class FakeStreams implements ExperimentStreams {
  readonly present = new Set<string>();
  readonly calls: string[] = [];
  failing = false;

  async ensure(experiment: string): Promise<void> {
    this.calls.push(`ensure ${experiment}`);
    if (this.failing) throw new Error("nats: connection refused");
    this.present.add(experiment);
  }

  async remove(experiment: string): Promise<void> {
    this.calls.push(`remove ${experiment}`);
    if (this.failing) throw new Error("nats: connection refused");
    this.present.delete(experiment);
  }
}

export class FakeProgress implements ProgressSource {
  readonly records = new Map<string, PublishedPolicy>();
  async read(experiment: string): Promise<PublishedPolicy | undefined> {
    return this.records.get(experiment);
  }
}

/** Logs kept in memory (printed with SLUICE_TEST_LOGS=1). */
export function testLogger(component = "operator-test"): Logger {
  const show = process.env.SLUICE_TEST_LOGS === "1";
  return createLogger({
    experiment: "-",
    component,
    level: "debug",
    write: (l) => show && process.stderr.write(l + "\n"),
  });
}

/** A small valid RLExperiment; `spec` fields override the toy defaults. */
export function rlExperiment(name: string, namespace: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace },
    spec: {
      steps: 5,
      environment: { name: "digits", config: { turns: 3 } },
      rollout: { groupSize: 4, groupsPerStep: 2, actors: 2 },
      learner: { checkpointEvery: 2 },
      ...spec,
    },
  };
}
