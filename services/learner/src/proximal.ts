import type { contracts, EngineApi } from "@sluice/common";
import { EngineResponseError } from "./errors.js";
import { microbatches } from "./step-batch.js";

/** Which logprobs of a training sequence a recomputation fills. */
export type RecomputedLogprobs = "proxLogprobs" | "refLogprobs";

/**
 * Decoupled PPO's proximal policy (AReaL, arXiv 2505.24298): the weights as they are at
 * the start of the step. Their logprobs of every target are recomputed here, before the
 * first update of the step, and travel as `prox_logprobs` next to the behaviour logprobs
 * the rollout recorded. Returns new sequences; the inputs are not modified.
 */
export async function withProximalLogprobs(
  engine: Pick<EngineApi, "computeLogprobs">,
  model: string,
  sequences: readonly contracts.TrainingSequence[],
  microBatchSequences: number,
): Promise<contracts.TrainingSequence[]> {
  return withRecomputedLogprobs(engine, model, sequences, microBatchSequences, "proxLogprobs");
}

/**
 * The reference policy's logprobs for the k3 KL term (GRPO, Shao et al. 2024, arXiv
 * 2402.03300): computed by the engine's frozen reference model (spec.algorithm.klCoef > 0)
 * and sent as `ref_logprobs`. Returns new sequences; the inputs are not modified.
 */
export async function withReferenceLogprobs(
  engine: Pick<EngineApi, "computeLogprobs">,
  referenceModel: string,
  sequences: readonly contracts.TrainingSequence[],
  microBatchSequences: number,
): Promise<contracts.TrainingSequence[]> {
  return withRecomputedLogprobs(engine, referenceModel, sequences, microBatchSequences, "refLogprobs");
}

async function withRecomputedLogprobs(
  engine: Pick<EngineApi, "computeLogprobs">,
  model: string,
  sequences: readonly contracts.TrainingSequence[],
  microBatchSequences: number,
  field: RecomputedLogprobs,
): Promise<contracts.TrainingSequence[]> {
  const out: contracts.TrainingSequence[] = [];
  for (const mb of microbatches(sequences, microBatchSequences)) {
    const res = await engine.computeLogprobs({ model, sequences: mb.map((s) => s.tokenIds) });
    if (res.logprobs.length !== mb.length) {
      throw new EngineResponseError(
        `engine returned ${res.logprobs.length} logprob arrays for ${mb.length} sequences`,
        { model },
      );
    }
    mb.forEach((s, i) => {
      const lp = res.logprobs[i]!;
      // int32 token ids and float32 logprobs: 4 bytes each; n − 1 targets for n tokens.
      if (lp.byteLength !== s.tokenIds.byteLength - 4) {
        throw new EngineResponseError(
          `engine returned ${lp.byteLength / 4} ${field === "proxLogprobs" ? "proximal" : "reference"} logprobs for a sequence of ${s.tokenIds.byteLength / 4} tokens`,
          { model },
        );
      }
      out.push({ ...s, [field]: lp });
    });
  }
  return out;
}
