import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { contracts } from "@sluice/common";
import type { WeightWriter } from "../publisher.js";

const { WeightsFormat } = contracts;

/**
 * Writes what the engine's SaveWeights writes, as far as the servers look: the PEFT adapter
 * files, or config.json + model.safetensors.
 * - honours: a LoRA model whose engine client passes `format` on;
 * - drops-format: a LoRA model behind a client that drops `format` (checkpoint + adapter);
 * - no-lora: a model without LoRA (format passed on; PEFT_ADAPTER is refused like the engine).
 */
export class FakeWeightWriter implements WeightWriter {
  readonly calls: { model: string; path: string; format: contracts.WeightsFormat | undefined }[] = [];
  constructor(
    readonly mode: "honours" | "drops-format" | "no-lora" = "honours",
    readonly rank = 8,
  ) {}

  async saveWeights(
    model: string,
    path: string,
    includeOptimizer: boolean,
    format?: contracts.WeightsFormat,
  ): Promise<contracts.SaveWeightsResponse> {
    this.calls.push({ model, path, format });
    const fmt = this.mode === "drops-format" ? WeightsFormat.WEIGHTS_FORMAT_UNSPECIFIED : (format ?? 0);
    const lora = this.mode !== "no-lora";
    if (fmt === WeightsFormat.WEIGHTS_FORMAT_PEFT_ADAPTER && !lora) {
      throw new Error("FAILED_PRECONDITION: format peft_adapter: model trains no LoRA adapter");
    }
    mkdirSync(path, { recursive: true });
    if (fmt !== WeightsFormat.WEIGHTS_FORMAT_PEFT_ADAPTER) {
      writeFileSync(join(path, "config.json"), "{}");
      writeFileSync(join(path, "model.safetensors"), "weights");
    }
    const hasAdapter = lora && fmt !== WeightsFormat.WEIGHTS_FORMAT_MERGED;
    if (hasAdapter) {
      writeFileSync(join(path, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: this.rank }));
      writeFileSync(join(path, "adapter_model.safetensors"), "adapter");
    }
    void includeOptimizer;
    return { path, policyVersion: 0, bytes: 1, format: fmt, hasAdapter };
  }
}
