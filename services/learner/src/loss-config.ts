import { contracts, type ExperimentSpec } from "@sluice/common";

const { LossKind, LossNormalization } = contracts;

type Algorithm = ExperimentSpec["algorithm"];

const LOSS_KINDS: Record<Algorithm["loss"], contracts.LossKind> = {
  ppo_clip: LossKind.LOSS_KIND_PPO_CLIP,
  reinforce: LossKind.LOSS_KIND_REINFORCE,
  decoupled_ppo: LossKind.LOSS_KIND_DECOUPLED_PPO,
  truncated_is: LossKind.LOSS_KIND_TRUNCATED_IS,
};

/** True when the loss needs proximal logprobs, recomputed with the weights before the step. */
export function needsProximalLogprobs(a: Algorithm): boolean {
  return a.loss === "decoupled_ppo" || a.loss === "truncated_is";
}

/** spec.algorithm → engine LossConfig. */
export function lossConfigFromSpec(a: Algorithm): contracts.LossConfig {
  return {
    kind: LOSS_KINDS[a.loss],
    behaviourWeightCap: a.behaviourWeightCap,
    truncatedIsCap: a.truncatedIsCap,
    // k3 KL to the reference policy (GRPO); the learner sends ref_logprobs when > 0.
    klCoef: a.klCoef,
    dpoBeta: 0,
    clipEpsilonLow: a.clipEpsilonLow,
    clipEpsilonHigh: a.clipEpsilonHigh,
    normalization:
      a.lossNormalization === "token_mean"
        ? LossNormalization.LOSS_NORMALIZATION_TOKEN_MEAN
        : a.lossNormalization === "sequence_mean"
          ? LossNormalization.LOSS_NORMALIZATION_SEQUENCE_MEAN
          : LossNormalization.LOSS_NORMALIZATION_CONSTANT,
    normalizationConstant: a.normalizationConstant,
  };
}
