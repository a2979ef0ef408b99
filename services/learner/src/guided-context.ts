import { contracts, packFloat32, unpackFloat32, type EngineApi } from "@sluice/common";
import { EngineResponseError } from "./errors.js";
import type { GuidedContextMode, GuidedSequence } from "./guided-sequence.js";
import { microbatches } from "./step-batch.js";

/** Positions whose loss mask is 1, in order. */
function lossPositions(s: contracts.TrainingSequence): number[] {
  const out: number[] = [];
  s.lossMask.forEach((m, p) => {
    if (m !== 0) out.push(p);
  });
  return out;
}

async function logprobsOf(
  engine: Pick<EngineApi, "computeLogprobs">,
  model: string,
  sequences: readonly contracts.TrainingSequence[],
  microBatchSequences: number,
): Promise<number[][]> {
  const out: number[][] = [];
  for (const mb of microbatches(sequences, microBatchSequences)) {
    const res = await engine.computeLogprobs({ model, sequences: mb.map((s) => s.tokenIds) });
    if (res.logprobs.length !== mb.length) {
      throw new EngineResponseError(
        `engine returned ${res.logprobs.length} logprob arrays for ${mb.length} sequences`,
        {
          model,
        },
      );
    }
    mb.forEach((s, i) => {
      const lp = unpackFloat32(res.logprobs[i]!);
      if (lp.length !== s.tokenIds.byteLength / 4 - 1) {
        throw new EngineResponseError(
          `engine returned ${lp.length} logprobs for a sequence of ${s.tokenIds.byteLength / 4} tokens`,
          { model },
        );
      }
      out.push(lp);
    });
  }
  return out;
}

/**
 * The behaviour logprobs of stripped guided sequences (Agent-RLVR training context, SEEDS.md):
 *
 *   strip:          old_logprobs[t] = log π_θold(y_t | x, y_<t)      recomputed on the stripped context
 *   strip_with_is:  old_logprobs[t] = log π_θold(y_t | x, g, y_<t)   recomputed on the guided context,
 *                   so the loss's ratio is ρ_t = π_θ(y_t | x, y_<t) / π_θold(y_t | x, g, y_<t)
 *
 * π_θold is the weights at the start of the step (the engine's ComputeLogprobs, as for the
 * proximal policy in proximal.ts). The k-th loss position of the stripped sequence is the
 * k-th of the guided one: stripping removes observation tokens only, never actions.
 * Returns new sequences; unguided ones are passed through unchanged.
 */
export async function withGuidedContextLogprobs(
  engine: Pick<EngineApi, "computeLogprobs">,
  model: string,
  sequences: readonly contracts.TrainingSequence[],
  guided: readonly GuidedSequence[],
  mode: Exclude<GuidedContextMode, "keep">,
  microBatchSequences: number,
): Promise<contracts.TrainingSequence[]> {
  const out = [...sequences];
  if (guided.length === 0) return out;
  const scoring = guided.map((g) => {
    if (mode === "strip") return g.stripped;
    if (!g.guided) throw new EngineResponseError("strip_with_is needs the guided sequence of every guided trajectory");
    return g.guided;
  });
  const lps = await logprobsOf(engine, model, scoring, microBatchSequences);
  guided.forEach((g, i) => {
    const lp = lps[i]!;
    const target = lossPositions(g.stripped);
    const source = lossPositions(scoring[i]!);
    if (source.length !== target.length) {
      throw new EngineResponseError(
        `guided and stripped sequences have ${source.length} and ${target.length} loss tokens`,
      );
    }
    const old = new Float32Array(g.stripped.lossMask.length);
    target.forEach((p, k) => (old[p] = lp[source[k]!] ?? 0));
    out[g.index] = { ...g.stripped, oldLogprobs: packFloat32(old) };
  });
  return out;
}
