import { contracts, type ExperimentSpec } from "@sluice/common";

const { LossKind, LossNormalization } = contracts;

/** spec.algorithm → engine LossConfig. */
export function lossConfigFromSpec(a: ExperimentSpec["algorithm"]): contracts.LossConfig {
  return {
    kind: a.loss === "ppo_clip" ? LossKind.LOSS_KIND_PPO_CLIP : LossKind.LOSS_KIND_REINFORCE,
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
