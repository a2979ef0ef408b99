import assert from "node:assert/strict";
import { test } from "node:test";
import { parseExperimentManifest } from "./spec/load.js";
import { engineArgs, engineModelSpec, engineModelSpecArg } from "./engine-launch.js";

const manifest = (model: string): ReturnType<typeof parseExperimentManifest> =>
  parseExperimentManifest(`apiVersion: sluice.dev/v1alpha1
kind: RLExperiment
metadata: {name: t}
spec:
  seed: 5
  steps: 2
  environment: {name: digits}
  model: ${model}
`);

void test("maps the tiny model to the engine's Hugging Face config names", () => {
  const spec = manifest("{tiny: {hiddenSize: 32, layers: 3, heads: 2, intermediateSize: 64}}").spec;
  assert.deepEqual(engineModelSpec(spec), {
    name: "policy",
    source: "tiny",
    tiny: {
      hidden_size: 32,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 512,
    },
    seed: 5,
    device: "auto",
  });
});

void test("a path model is an hf checkpoint for the engine", () => {
  const spec = manifest("{source: path, path: /models/x, device: cpu}").spec;
  assert.deepEqual(engineModelSpec(spec), { name: "policy", source: "hf", path: "/models/x", seed: 5, device: "cpu" });
});

void test("a LoRA block reaches the engine in its own names, dropout 0", () => {
  const spec = manifest("{lora: {r: 4, alpha: 8, targetModules: [q_proj, v_proj]}}").spec;
  assert.deepEqual(engineModelSpec(spec).lora, { r: 4, alpha: 8, dropout: 0, target_modules: ["q_proj", "v_proj"] });
  assert.deepEqual(engineModelSpec(manifest("{lora: {}}").spec).lora, { r: 8, alpha: 16, dropout: 0 });
  assert.equal(engineModelSpec(manifest("{}").spec).lora, undefined);
});

void test("engine args carry ports, experiment and the JSON spec", () => {
  const spec = manifest("{}").spec;
  const args = engineArgs(spec, "t", { host: "127.0.0.1", grpcPort: 1001, metricsPort: 1002 });
  assert.deepEqual(args.slice(0, 10), [
    "-m",
    "sluice_engine",
    "--host",
    "127.0.0.1",
    "--port",
    "1001",
    "--metrics-port",
    "1002",
    "--experiment",
    "t",
  ]);
  assert.equal(args[10], "--model-spec");
  assert.equal((JSON.parse(args[11] ?? "") as { source: string }).source, "tiny");
});

void test("a KL term adds a frozen reference model: the same spec without LoRA, after the policy", () => {
  const plain = manifest("{lora: {r: 4, alpha: 8}}").spec;
  assert.deepEqual(JSON.parse(engineModelSpecArg(plain)), engineModelSpec(plain));
  const withKl = { ...plain, algorithm: { ...plain.algorithm, klCoef: 0.05 } };
  const parsed = JSON.parse(engineModelSpecArg(withKl)) as { models: Record<string, Record<string, unknown>> };
  assert.deepEqual(Object.keys(parsed.models), ["policy", "policy-ref"]);
  assert.deepEqual(parsed.models["policy"]!["lora"], { r: 4, alpha: 8, dropout: 0 });
  assert.equal(parsed.models["policy-ref"]!["lora"], undefined);
  assert.equal(parsed.models["policy-ref"]!["seed"], 5);
  assert.equal(parsed.models["policy"]!["name"], undefined, "names are the keys");
});
