import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { contracts, type EngineApi, type ExperimentSpec, type InferenceConfig } from "@sluice/common";
import { PublishError, type InferenceBackend } from "./errors.js";
import type { HttpPolicy } from "./http.js";
import { SglangClient } from "./sglang.js";
import { VllmLoraClient } from "./vllm.js";

/** What inference requests for a published version must name, and where its weights are. */
export interface PublishedPolicy {
  /** The `model` of a chat request for this version (vLLM: the LoRA adapter name). */
  servedModel: string;
  weightsUri: string;
}

/** Makes a policy version servable on the configured inference backend. */
export interface WeightPublisher {
  readonly backend: InferenceBackend;
  /** Resolves once the server serves `version`; rejects with PublishError. */
  publish(version: number): Promise<PublishedPolicy>;
}

/**
 * The engine's SaveWeights with a format. An engine that ignores `format` is detected from
 * the answer (format / has_adapter) and refused where the layout matters.
 */
export type WeightWriter = Pick<EngineApi, "saveWeights">;

const { WeightsFormat } = contracts;
type WeightsFormat = contracts.WeightsFormat;

/** Non-fatal trouble (an old adapter that would not unload, a directory left behind). */
export type PublishWarning = (message: string, attributes: Record<string, string>) => void;

export interface PublisherOptions {
  spec: ExperimentSpec;
  runDir: string;
  writer: WeightWriter;
  /** Value of inference.apiKeyEnv; default process.env. */
  env?: NodeJS.ProcessEnv;
  onWarning?: PublishWarning;
}

export function createWeightPublisher(o: PublisherOptions): WeightPublisher {
  const inf = o.spec.inference;
  if (inf.backend === "engine") return new EnginePublisher(o.spec.model.name);
  const policy = httpPolicy(inf, o.env ?? process.env);
  const weightsDir = inf.weightsDir || join(o.runDir, "weights");
  const common = { model: o.spec.model.name, writer: o.writer, weightsDir, onWarning: o.onWarning ?? (() => {}) };
  if (inf.backend === "vllm") {
    return new VllmPublisher({
      ...common,
      client: new VllmLoraClient(inf.url, policy),
      namePrefix: inf.loraNamePrefix || `${o.spec.model.name}-v`,
      keepVersions: inf.keepVersions || o.spec.rollout.maxStaleness + 1,
    });
  }
  return new SglangPublisher({
    ...common,
    client: new SglangClient(inf.url, policy),
    servedModel: inf.servedModelName || o.spec.model.name,
    loadFormat: inf.loadFormat || undefined,
  });
}

export function httpPolicy(inf: InferenceConfig, env: NodeJS.ProcessEnv): HttpPolicy {
  let apiKey: string | undefined;
  if (inf.apiKeyEnv) {
    apiKey = env[inf.apiKeyEnv];
    if (!apiKey) {
      throw new PublishError(`inference.apiKeyEnv names ${inf.apiKeyEnv}, which is not set`, {
        backend: inf.backend,
      });
    }
  }
  return { timeoutMs: inf.requestTimeoutMs, retries: inf.retries, backoffMs: inf.retryBackoffMs, apiKey };
}

/** The colocated engine samples with the weights it trains: nothing to move. */
export class EnginePublisher implements WeightPublisher {
  readonly backend = "engine" as const;
  constructor(private readonly model: string) {}
  async publish(): Promise<PublishedPolicy> {
    return { servedModel: this.model, weightsUri: `engine://${this.model}` };
  }
}

interface DiskPublisherOptions {
  model: string;
  writer: WeightWriter;
  weightsDir: string;
  onWarning: PublishWarning;
}

/** `<weightsDir>/v<N>`, emptied first (a crashed predecessor may have left a partial one). */
function freshVersionDir(weightsDir: string, version: number): string {
  const dir = join(weightsDir, `v${version}`);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** Versions with a `v<N>` directory under weightsDir. */
function versionDirs(weightsDir: string): number[] {
  if (!existsSync(weightsDir)) return [];
  return readdirSync(weightsDir)
    .map((n) => /^v(\d+)$/.exec(n)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
}

export interface VllmPublisherOptions extends DiskPublisherOptions {
  client: VllmLoraClient;
  /** Adapter name = prefix + version. */
  namePrefix: string;
  /** Adapters kept loaded: the newest and keepVersions − 1 older ones. */
  keepVersions: number;
}

/**
 * vLLM: each version is a LoRA adapter. Save the engine's adapter (PEFT layout) to
 * `<weightsDir>/v<N>`, load it as `<prefix><N>`, then unload (and delete) versions older than
 * what in-flight requests may still name (the newest keepVersions stay).
 */
export class VllmPublisher implements WeightPublisher {
  readonly backend = "vllm" as const;
  private readonly loaded = new Set<number>();
  private adopted = false;

  constructor(private readonly o: VllmPublisherOptions) {
    if (o.keepVersions < 1) throw new RangeError(`keepVersions must be ≥ 1, got ${o.keepVersions}`);
  }

  adapterName(version: number): string {
    return `${this.o.namePrefix}${version}`;
  }

  /** Versions this publisher believes are loaded on the server (ascending). */
  loadedVersions(): number[] {
    return [...this.loaded].sort((a, b) => a - b);
  }

  async publish(version: number): Promise<PublishedPolicy> {
    const { o } = this;
    if (!this.adopted) await this.adoptLoaded();
    const dir = freshVersionDir(o.weightsDir, version);
    const saved = await o.writer.saveWeights(o.model, dir, false, WeightsFormat.WEIGHTS_FORMAT_PEFT_ADAPTER);
    if (!saved.hasAdapter && saved.format !== WeightsFormat.WEIGHTS_FORMAT_PEFT_ADAPTER) {
      throw new PublishError(
        `vllm: the engine wrote no LoRA adapter for model ${o.model} (vLLM serves versions as LoRA adapters: set the model's lora block)`,
        { backend: "vllm", version, path: dir },
      );
    }
    const name = this.adapterName(version);
    if ((await o.client.loadAdapter(name, dir, version)) === "exists") {
      // Loaded by an earlier learner that crashed before its checkpoint covered this version:
      // the name may hold other weights. Replace it.
      o.onWarning(`vllm already had adapter ${name}; replacing it`, { lora_name: name });
      await o.client.unloadAdapter(name, version);
      if ((await o.client.loadAdapter(name, dir, version)) === "exists") {
        throw new PublishError(`vllm still reports adapter ${name} as loaded after unloading it`, {
          backend: "vllm",
          version,
        });
      }
    }
    this.loaded.add(version);
    await this.retire(version);
    return { servedModel: name, weightsUri: pathToFileURL(dir).href };
  }

  /** Adapters under our prefix left loaded by an earlier learner, so retention covers them. */
  private async adoptLoaded(): Promise<void> {
    const prefix = this.o.namePrefix;
    for (const id of await this.o.client.listAdapters()) {
      const m = id.startsWith(prefix) ? /^\d+$/.exec(id.slice(prefix.length)) : null;
      if (m) this.loaded.add(Number(m[0]));
    }
    this.adopted = true;
  }

  private async retire(current: number): Promise<void> {
    const { o } = this;
    const oldest = current - o.keepVersions + 1;
    for (const v of this.loadedVersions().filter((v) => v < oldest)) {
      try {
        await o.client.unloadAdapter(this.adapterName(v), v);
        this.loaded.delete(v);
      } catch (err) {
        // The new version is served; a leaked old adapter costs memory, not correctness.
        o.onWarning(`vllm: could not unload ${this.adapterName(v)}: ${(err as Error).message}`, {
          lora_name: this.adapterName(v),
        });
        continue;
      }
    }
    // Adapter directories nothing loaded refers to any more.
    for (const v of versionDirs(o.weightsDir)) {
      if (v < oldest && !this.loaded.has(v)) rmSync(join(o.weightsDir, `v${v}`), { recursive: true, force: true });
    }
  }
}

export interface SglangPublisherOptions extends DiskPublisherOptions {
  client: SglangClient;
  /** SGLang's --served-model-name: requests name it whatever the version. */
  servedModel: string;
  loadFormat?: string;
}

/**
 * SGLang: full weights. Save a merged Hugging Face checkpoint (LoRA folded in) to
 * `<weightsDir>/v<N>`, load it in place with update_weights_from_disk, then delete older
 * version directories (the server holds the weights in memory).
 */
export class SglangPublisher implements WeightPublisher {
  readonly backend = "sglang" as const;
  constructor(private readonly o: SglangPublisherOptions) {}

  async publish(version: number): Promise<PublishedPolicy> {
    const { o } = this;
    const dir = freshVersionDir(o.weightsDir, version);
    const saved = await o.writer.saveWeights(o.model, dir, false, WeightsFormat.WEIGHTS_FORMAT_MERGED);
    if (saved.format !== WeightsFormat.WEIGHTS_FORMAT_MERGED && saved.hasAdapter) {
      // A checkpoint of a LoRA model has PEFT parameter names SGLang cannot load: the engine
      // client did not pass the format on.
      throw new PublishError(
        `sglang: the engine wrote a LoRA checkpoint instead of merged weights for model ${o.model} (its client must pass format MERGED)`,
        { backend: "sglang", version, path: dir },
      );
    }
    await o.client.updateWeightsFromDisk(
      {
        model_path: dir,
        ...(o.loadFormat ? { load_format: o.loadFormat } : {}),
        weight_version: String(version),
      },
      version,
    );
    for (const v of versionDirs(o.weightsDir)) {
      if (v < version) rmSync(join(o.weightsDir, `v${v}`), { recursive: true, force: true });
    }
    return { servedModel: o.servedModel, weightsUri: pathToFileURL(dir).href };
  }
}
