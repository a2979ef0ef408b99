import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readExperiment } from "../experiment.js";
import { rlExperiment } from "../testing/fakes.js";
import { setCondition } from "./conditions.js";
import type { Observed } from "./observe.js";
import { progressFrom } from "./progress.js";
import { computeStatus } from "./status.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");

function dep(replicas: number, ready: number) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d" },
    spec: { replicas },
    status: { readyReplicas: ready },
  };
}

function ready(n: number): Observed {
  return {
    deployments: { gateway: dep(1, n), actors: dep(2, 2 * n), sandboxes: dep(1, n), reward: dep(1, n) },
    learner: { apiVersion: "batch/v1", kind: "Job", metadata: { name: "l" }, status: { ready: n } },
  };
}

function statusAfter(specPatch: Record<string, unknown>, observed: Observed, prevStatus?: object) {
  const obj = rlExperiment("e", "ns", specPatch);
  obj.metadata.generation = 3;
  if (prevStatus) obj.status = prevStatus;
  const exp = readExperiment(obj);
  return computeStatus({ exp, spec: exp.spec!, observed, nowMs: T0, progress: undefined, problems: [] });
}

const cond = (s: { conditions?: { type: string; status: string; reason: string }[] }, type: string) =>
  s.conditions?.find((c) => c.type === type);

void describe("computeStatus", () => {
  const table: {
    name: string;
    spec: Record<string, unknown>;
    observed: Observed;
    phase: string;
    expect: [string, string, string][];
  }[] = [
    {
      name: "components starting",
      spec: {},
      observed: ready(0),
      phase: "Pending",
      expect: [
        ["Admitted", "True", "SpecValid"],
        ["ComponentsReady", "False", "ComponentsNotReady"],
        ["Progressing", "True", "Starting"],
      ],
    },
    {
      name: "everything ready",
      spec: {},
      observed: ready(1),
      phase: "Running",
      expect: [
        ["ComponentsReady", "True", "AllComponentsReady"],
        ["Progressing", "True", "Training"],
        ["Degraded", "False", "AsExpected"],
      ],
    },
    {
      name: "suspended",
      spec: { suspend: true },
      observed: ready(1),
      phase: "Suspended",
      expect: [
        ["Suspended", "True", "SuspendRequested"],
        ["Progressing", "False", "SuspendRequested"],
      ],
    },
    {
      name: "learner failed with the Job's reason",
      spec: {},
      observed: {
        deployments: ready(1).deployments,
        learner: {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: "l" },
          status: { conditions: [{ type: "Failed", status: "True", reason: "DeadlineExceeded" }] },
        },
      },
      phase: "Failed",
      expect: [
        ["Failed", "True", "DeadlineExceeded"],
        ["Progressing", "False", "Finished"],
      ],
    },
  ];
  for (const row of table) {
    void it(`${row.name}: phase ${row.phase}`, () => {
      const s = statusAfter(row.spec, row.observed);
      assert.equal(s.phase, row.phase);
      assert.equal(s.observedGeneration, 3);
      for (const [type, status, reason] of row.expect) {
        assert.deepEqual([cond(s, type)?.status, cond(s, type)?.reason], [status, reason], type);
      }
    });
  }

  void it("keeps a finished experiment finished whatever its children do afterwards", () => {
    const done = statusAfter(
      {},
      {
        deployments: {},
        learner: {
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: "l" },
          status: { conditions: [{ type: "Complete", status: "True" }] },
        },
      },
    );
    const later = statusAfter({}, ready(0), done);
    assert.equal(later.phase, "Succeeded");
    assert.equal(later.completionTime, done.completionTime);
  });

  void it("counts ready components for the Ready column", () => {
    const s = statusAfter({}, { ...ready(1), deployments: { ...ready(1).deployments, reward: dep(1, 0) } });
    assert.equal(s.ready, "4/5");
    assert.match(cond(s, "ComponentsReady")!.reason, /ComponentsNotReady/);
  });
});

void describe("setCondition", () => {
  void it("moves lastTransitionTime only when the status flips", () => {
    const a = setCondition([], { type: "Degraded", status: "False", reason: "AsExpected", message: "" }, "t1", 1);
    const b = setCondition(a, { type: "Degraded", status: "False", reason: "Other", message: "x" }, "t2", 2);
    assert.equal(b[0]!.lastTransitionTime, "t1");
    assert.equal(b[0]!.observedGeneration, 2);
    const c = setCondition(b, { type: "Degraded", status: "True", reason: "NatsUnavailable", message: "" }, "t3", 2);
    assert.equal(c[0]!.lastTransitionTime, "t3");
  });
});

void describe("progressFrom", () => {
  const spec = { steps: 10, learner: { checkpointEvery: 4 } } as Parameters<typeof progressFrom>[2];
  void it("derives the last checkpoint from checkpointEvery and keeps its time until the next", () => {
    const p1 = progressFrom(undefined, { step: 5, policyVersion: 5, publishedAtMs: T0 }, spec, "now1");
    assert.deepEqual(p1.lastCheckpoint, { step: 4, time: new Date(T0).toISOString() });
    const p2 = progressFrom(p1, { step: 7, policyVersion: 7, publishedAtMs: T0 + 1000 }, spec, "now2");
    assert.deepEqual(p2.lastCheckpoint, p1.lastCheckpoint);
    const p3 = progressFrom(p2, { step: 8, policyVersion: 8, publishedAtMs: T0 + 2000 }, spec, "now3");
    assert.equal(p3.lastCheckpoint?.step, 8);
  });
});
