import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SpecError } from "../errors.js";
import { REPO_ROOT } from "../paths.js";
import { loadExperimentManifest, parseExperimentManifest } from "./load.js";

const MINIMAL = `apiVersion: sluice.dev/v1alpha1
kind: RLExperiment
metadata:
  name: digits-smoke
spec:
  steps: 3
  environment:
    name: digits
`;

const dir = mkdtempSync(join(tmpdir(), "sluice-spec-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeSpec(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Returns the SpecError a load throws; fails the test when it does not throw one. */
function specError(load: () => unknown): SpecError {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the manifest to be rejected");
}

void describe("loadExperimentManifest", () => {
  void it("fills defaults into a valid minimal manifest", () => {
    const m = loadExperimentManifest(writeSpec("ok.yaml", MINIMAL));
    assert.equal(m.metadata.name, "digits-smoke");
    assert.equal(m.spec.steps, 3);
    assert.equal(m.spec.seed, 0);
    assert.equal(m.spec.rollout.groupSize, 8);
    assert.equal(m.spec.rollout.sampling.maxTokens, 16);
    assert.equal(m.spec.reward.outcome.source, "score");
    assert.deepEqual(m.spec.reward.outcome.levels, {
      NO_SUBMIT: -1,
      EMPTY_PATCH: -0.5,
      PATCH_APPLY_FAILED: -0.25,
      TESTS_FAIL: 0,
      RESOLVED: 1,
    });
    assert.deepEqual(m.spec.environment.config, {});
    assert.equal(m.spec.model.source, "tiny");
    assert.equal(m.spec.learner.maxAckPending, 1024);
  });

  const cases: { name: string; text: string; mentions: string[] }[] = [
    {
      name: "unknown field",
      text: MINIMAL + "  rollout:\n    groupSiz: 4\n",
      mentions: ["spec.rollout", "groupSiz", "unknown field"],
    },
    {
      name: "unknown top-level spec field",
      text: MINIMAL + "  learnr: {}\n",
      mentions: ["spec", "learnr"],
    },
    {
      name: "wrong type",
      text: MINIMAL + "  rollout:\n    groupSize: eight\n",
      mentions: ["spec.rollout.groupSize", "number"],
    },
    {
      name: "out of range",
      text: MINIMAL + "  rollout:\n    groupSize: 0\n",
      mentions: ["spec.rollout.groupSize"],
    },
    {
      name: "bad enum",
      text: MINIMAL + "  reward:\n    outcome:\n      source: vibes\n",
      mentions: ["spec.reward.outcome.source"],
    },
    {
      name: "missing required",
      text: MINIMAL.replace("  steps: 3\n", ""),
      mentions: ["spec.steps"],
    },
    {
      name: "bad metadata.name",
      text: MINIMAL.replace("digits-smoke", "Digits_Smoke"),
      mentions: ["metadata.name", "DNS label"],
    },
    {
      name: "model.path required for source=path",
      text: MINIMAL + "  model:\n    source: path\n",
      mentions: ["spec.model.path"],
    },
    {
      name: "wrong kind",
      text: MINIMAL.replace("RLExperiment", "Deployment"),
      mentions: ["kind"],
    },
    {
      name: "YAML syntax error",
      text: MINIMAL + "  rollout: [unclosed\n",
      mentions: ["YAML syntax", "line"],
    },
  ];

  for (const c of cases) {
    void it(`rejects a manifest with ${c.name}, naming the field`, () => {
      const path = writeSpec(`${c.name.replace(/\W+/g, "-")}.yaml`, c.text);
      const err = specError(() => loadExperimentManifest(path));
      assert.ok(err.issues.length > 0);
      for (const m of c.mentions)
        assert.match(err.message, new RegExp(m.replace(/\./g, "\\.")), `message lacks ${m}: ${err.message}`);
      assert.ok(err.message.includes(path), "message names the file");
      assert.equal(err.retryable, false);
    });
  }

  void it("rejects a missing file with a SpecError naming the path", () => {
    const path = join(dir, "absent.yaml");
    const err = specError(() => loadExperimentManifest(path));
    assert.match(err.message, /cannot read file/);
    assert.ok(err.message.includes(path));
  });

  void it("parses inline text with a placeholder source name", () => {
    const err = specError(() => parseExperimentManifest("apiVersion: nope\n"));
    assert.match(err.message, /<inline>/);
    assert.match(err.message, /apiVersion/);
  });
});

void describe("a manifest with the Kubernetes blocks of an RLExperiment", () => {
  const KUBE = `${MINIMAL}  suspend: false
  runPolicy:
    backoffLimit: 2
  components:
    learner:
      resources:
        limits: { nvidia.com/gpu: 1 }
`;

  void it("loads for sluice up, leaving the Kubernetes blocks out of the local spec", () => {
    const m = parseExperimentManifest(KUBE);
    assert.equal(m.spec.steps, 3);
    assert.equal("components" in m.spec, false);
    assert.equal("runPolicy" in m.spec, false);
  });

  void it("still names a problem inside a Kubernetes block", () => {
    const err = specError(() => parseExperimentManifest(KUBE.replace("backoffLimit: 2", "backoffLimit: -1")));
    assert.ok(
      err.issues.some((i) => i.startsWith("spec.runPolicy.backoffLimit:")),
      err.issues.join("; "),
    );
  });

  void it("loads the shipped Kubernetes example", () => {
    const m = loadExperimentManifest(join(REPO_ROOT, "examples", "k8s", "rlexperiment.yaml"));
    assert.equal(m.metadata.name, "toy-k8s");
  });
});
