import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidExperimentError } from "../errors.js";
import { FakeKubeApi } from "../testing/fake-kube-api.js";
import { experimentFromFile } from "./launch.js";
import { logPath, logTargets } from "./logs.js";
import { formatStatus } from "./status-view.js";

const SPEC = `apiVersion: sluice.dev/v1alpha1
kind: RLExperiment
metadata:
  name: toy
spec:
  steps: 3
  environment:
    name: digits
`;

void describe("kubectl-sluice", () => {
  void it("launch wraps a local spec file into an RLExperiment as written (no defaults filled in)", () => {
    const obj = experimentFromFile(SPEC, "toy.yaml", { namespace: "ml" });
    assert.deepEqual(obj, {
      apiVersion: "sluice.dev/v1alpha1",
      kind: "RLExperiment",
      metadata: { name: "toy", namespace: "ml" },
      spec: { steps: 3, environment: { name: "digits" } },
    });
    assert.equal(experimentFromFile(SPEC, "toy.yaml", { name: "toy-2" }).metadata.name, "toy-2");
  });

  void it("launch refuses an invalid spec before it reaches the cluster, naming the field", () => {
    assert.throws(
      () => experimentFromFile(SPEC.replace("steps: 3", "steps: 0"), "toy.yaml"),
      (err: unknown) => err instanceof InvalidExperimentError && /spec\.steps/.test(err.message),
    );
  });

  void it("status shows phase, progress, components and conditions", () => {
    const text = formatStatus({
      apiVersion: "sluice.dev/v1alpha1",
      kind: "RLExperiment",
      metadata: { name: "toy", namespace: "ml", generation: 1 },
      spec: { steps: 10 },
      status: {
        phase: "Running",
        ready: "5/5",
        observedGeneration: 1,
        progress: { step: 4, policyVersion: 4, lastCheckpoint: { step: 4, time: "2026-01-01T00:00:00.000Z" } },
        components: { actors: { replicas: 2, ready: 2 } },
        conditions: [
          { type: "Progressing", status: "True", reason: "Training", message: "ok", lastTransitionTime: "t" },
        ],
      },
    });
    assert.match(text, /Phase: +Running/);
    assert.match(text, /Step: +4 \/ 10/);
    assert.match(text, /Checkpoint: +step 4/);
    assert.match(text, /actors +2\/2/);
    assert.match(text, /Progressing +True +Training/);
  });

  void it("logs picks a running pod of the component and its container", async () => {
    const api = new FakeKubeApi();
    const pod = (name: string, phase: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: "ml",
        labels: { "sluice.dev/experiment": "toy", "app.kubernetes.io/component": "learner" },
      },
      status: { phase },
    });
    await api.create(pod("old", "Failed"));
    await api.create(pod("new", "Running"));
    const [t] = await logTargets(api, "ml", "toy", "learner", "engine");
    assert.deepEqual(t, { pod: "new", container: "engine" });
    assert.equal(
      logPath("ml", t!, { tailLines: 50 }),
      "/api/v1/namespaces/ml/pods/new/log?container=engine&tailLines=50",
    );
    await assert.rejects(logTargets(api, "ml", "toy", "nope"), /unknown component/);
  });
});
