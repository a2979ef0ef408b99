import type { ExperimentSpec } from "./schema.js";

/**
 * Name of the frozen reference policy the engine hosts beside the trained one when
 * spec.algorithm.klCoef > 0: the same model spec without LoRA, so it holds the initial
 * (base) weights for the whole run. The engine launcher and the learner both use this name.
 */
export function referenceModelName(spec: Pick<ExperimentSpec, "model">): string {
  return `${spec.model.name}-ref`;
}

/** True when the loss has a KL term to the reference policy. */
export function usesReferenceModel(spec: Pick<ExperimentSpec, "algorithm">): boolean {
  return spec.algorithm.klCoef > 0;
}
