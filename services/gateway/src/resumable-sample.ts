import { mixSeed, packInt32, unpackFloat32, unpackInt32, type EngineApi } from "@sluice/common";
import { EngineUnavailableError } from "./errors.js";

/** Tokens of one completion, each with the logprob and the policy version it was drawn under. */
export interface ResumedSample {
  tokenIds: number[];
  logprobs: number[];
  /** Per token: the weights version that produced it (a resumed rollout mixes versions). */
  policyVersions: number[];
  finishReason: "stop" | "length";
  /** Policy version of the last segment (the newest weights the completion saw). */
  policyVersion: number;
  /** Times a weight update interrupted the generation and it was resumed. */
  resumes: number;
}

export interface SampleSettings {
  model: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** Partial rollouts: let weight updates interrupt, then resume under the new weights. */
  interruptible: boolean;
}

/**
 * A resume loop cannot spin forever: past this many interruptions the generation ends
 * as "length" with what it has (each interruption is one weight update, so reaching it
 * means hundreds of updates during one completion).
 */
export const MAX_RESUMES = 256;

/**
 * Samples one completion of `prompt`. An interruptible generation that a weight update
 * stops (finish_reason "interrupted") is resumed from prompt + the tokens so far under
 * the new weights, for the tokens left, until it stops or reaches max_tokens (partial
 * rollouts, as in AReaL). Segment k of a seeded request uses seed mixSeed(seed, k).
 */
export async function sampleResumable(
  call: (req: Parameters<EngineApi["sample"]>[0]) => ReturnType<EngineApi["sample"]>,
  prompt: readonly number[],
  s: SampleSettings,
): Promise<ResumedSample> {
  const out: ResumedSample = {
    tokenIds: [],
    logprobs: [],
    policyVersions: [],
    finishReason: "length",
    policyVersion: 0,
    resumes: 0,
  };
  for (let segment = 0; ; segment++) {
    const remaining = s.maxTokens - out.tokenIds.length;
    const res = await call({
      model: s.model,
      prompts: [packInt32([...prompt, ...out.tokenIds])],
      params: {
        maxTokens: remaining,
        temperature: s.temperature,
        topP: s.topP,
        stopTokenIds: [],
        seed: s.seed === 0 ? 0 : segment === 0 ? s.seed : mixSeed(s.seed, segment) || 1,
        interruptible: s.interruptible,
      },
      numSamples: 1,
    });
    const seq = res.sequences[0];
    if (seq === undefined) throw new EngineUnavailableError("engine returned no sampled sequence", undefined);
    const ids = unpackInt32(seq.tokenIds, "sample.token_ids");
    const lps = unpackFloat32(seq.logprobs, "sample.logprobs");
    out.tokenIds.push(...ids);
    out.logprobs.push(...lps);
    for (let i = 0; i < ids.length; i++) out.policyVersions.push(res.policyVersion);
    out.policyVersion = res.policyVersion;
    if (seq.finishReason !== "interrupted") {
      out.finishReason = seq.finishReason === "stop" ? "stop" : "length";
      return out;
    }
    if (out.tokenIds.length >= s.maxTokens || out.resumes >= MAX_RESUMES) return out;
    out.resumes++;
  }
}
