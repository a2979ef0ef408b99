import type { ServiceEndpoint } from "./runtime-config.js";
import { referenceModelName, usesReferenceModel } from "./spec/reference-model.js";
import type { ExperimentSpec } from "./spec/schema.js";

/**
 * The engine's --model-spec JSON (services/engine/sluice_engine/loading.py ModelSpec and
 * tiny.py TinySpec). The experiment schema uses camelCase and "path"; the engine uses the
 * Hugging Face config names and "hf". This is the only place that knows both: `sluice up`
 * and the Kubernetes operator both launch the engine with engineArgs.
 */
export interface EngineModelSpec {
  name: string;
  source: "tiny" | "hf";
  path?: string;
  tiny?: {
    hidden_size: number;
    num_hidden_layers: number;
    num_attention_heads: number;
    num_key_value_heads: number;
    intermediate_size: number;
    max_position_embeddings: number;
  };
  seed: number;
  device: "auto" | "cpu" | "cuda";
  /** peft LoRA (services/engine/sluice_engine/lora.py LoraSpec); dropout is always 0 there. */
  lora?: { r: number; alpha: number; dropout: 0; target_modules?: string[] };
}

function loraSpec(spec: ExperimentSpec): Pick<EngineModelSpec, "lora"> {
  const l = spec.model.lora;
  if (!l) return {};
  return {
    lora: {
      r: l.r,
      alpha: l.alpha,
      dropout: 0,
      ...(l.targetModules.length > 0 ? { target_modules: l.targetModules } : {}),
    },
  };
}

export function engineModelSpec(spec: ExperimentSpec): EngineModelSpec {
  const m = spec.model;
  if (m.source === "path") {
    return { name: m.name, source: "hf", path: m.path ?? "", seed: spec.seed, device: m.device, ...loraSpec(spec) };
  }
  return {
    name: m.name,
    source: "tiny",
    tiny: {
      hidden_size: m.tiny.hiddenSize,
      num_hidden_layers: m.tiny.layers,
      num_attention_heads: m.tiny.heads,
      // No grouped-query attention in the schema: one KV head per attention head.
      num_key_value_heads: m.tiny.heads,
      intermediate_size: m.tiny.intermediateSize,
      max_position_embeddings: m.tiny.maxPositionEmbeddings,
    },
    seed: spec.seed,
    device: m.device,
    ...loraSpec(spec),
  };
}

/**
 * The --model-spec argument: the trained model alone, or, with a KL term
 * (spec.algorithm.klCoef > 0), {"models": {policy, reference}} where the reference is the same
 * spec without LoRA (so it holds the initial, base weights) under referenceModelName(spec). The
 * trained model comes first: the engine's default model is the first one.
 */
export function engineModelSpecArg(spec: ExperimentSpec): string {
  const policy = engineModelSpec(spec);
  if (!usesReferenceModel(spec)) return JSON.stringify(policy);
  const { name, ...own } = policy;
  const { lora: _lora, ...reference } = own;
  return JSON.stringify({ models: { [name]: own, [referenceModelName(spec)]: reference } });
}

/** Arguments after `python`: `-m sluice_engine --host ... --port ...`. */
export function engineArgs(spec: ExperimentSpec, experiment: string, endpoint: ServiceEndpoint): string[] {
  return [
    "-m",
    "sluice_engine",
    "--host",
    endpoint.host,
    "--port",
    String(endpoint.grpcPort),
    "--metrics-port",
    String(endpoint.metricsPort),
    "--experiment",
    experiment,
    "--model-spec",
    engineModelSpecArg(spec),
    "--torch-threads",
    String(spec.model.torchThreads),
  ];
}
