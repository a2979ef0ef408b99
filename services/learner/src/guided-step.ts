import {
  contracts,
  counter,
  referenceModelName,
  usesReferenceModel,
  type EngineApi,
  type ExperimentSpec,
  type ServiceContext,
} from "@sluice/common";
import type { Ackable, ReadyGroup } from "./group-buffer.js";
import { withGuidedContextLogprobs } from "./guided-context.js";
import { dpoSequences, guidedDpoPairs } from "./guided-dpo.js";
import type { StepBatch } from "./step-batch.js";

const { LossKind } = contracts;

/** What one learner step sends to the engine once Agent-RLVR's training options are applied. */
export interface GuidedStepPlan {
  sequences: contracts.TrainingSequence[];
  loss: contracts.LossConfig;
  /** DPO pairs must stay adjacent: no mini-batch shuffle, microbatches of whole pairs. */
  pairwise: boolean;
  dpoPairs: number;
}

export interface GuidedLearnerMetrics {
  dpoPairs: ReturnType<typeof counter>;
  guidedSequences: ReturnType<typeof counter>;
  unstrippable: ReturnType<typeof counter>;
  dpoFallbackSteps: ReturnType<typeof counter>;
}

export function createGuidedLearnerMetrics(registry: ServiceContext["registry"]): GuidedLearnerMetrics {
  return {
    dpoPairs: counter(
      registry,
      "sluice_learner_dpo_pairs_total",
      "Agent-RLVR (guided success, failure) DPO pairs built",
    ),
    guidedSequences: counter(
      registry,
      "sluice_learner_guided_sequences_total",
      "guided re-attempts trained with their guidance stripped",
    ),
    unstrippable: counter(
      registry,
      "sluice_learner_guidance_unstrippable_total",
      "guided re-attempts whose guidance span was unknown (trained with the guided context)",
    ),
    dpoFallbackSteps: counter(
      registry,
      "sluice_learner_dpo_fallback_steps_total",
      "guidance.update dpo steps without a pair, trained by policy gradient",
    ),
  };
}

/**
 * Applies spec.guidance to a step (Agent-RLVR, arXiv 2506.11425):
 * - context strip / strip_with_is: behaviour logprobs of the stripped guided sequences are
 *   recomputed by the engine (guided-context.ts);
 * - update dpo: the step trains DPO on the groups' (guided success, failure) pairs with
 *   reference logprobs from the frozen reference model when the engine hosts one
 *   (algorithm.klCoef > 0), else from the weights at the start of the step (iterative DPO),
 *   and falls back to the policy-gradient batch when there is no pair.
 */
export async function planGuidedStep<M extends Ackable>(
  engine: Pick<EngineApi, "computeLogprobs">,
  spec: ExperimentSpec,
  groups: readonly ReadyGroup<M>[],
  batch: StepBatch,
  baseLoss: contracts.LossConfig,
  metrics?: GuidedLearnerMetrics,
): Promise<GuidedStepPlan> {
  const g = spec.guidance;
  const model = spec.model.name;
  const mb = spec.learner.microBatchSequences;
  const plain: GuidedStepPlan = { sequences: batch.sequences, loss: baseLoss, pairwise: false, dpoPairs: 0 };
  if (!g.enabled) return plain;
  metrics?.unstrippable.inc(batch.unstrippable);
  if (g.update === "dpo") {
    const pairs = guidedDpoPairs(groups, g.successThreshold);
    if (pairs.length > 0) {
      metrics?.dpoPairs.inc(pairs.length);
      const seqs = dpoSequences(pairs, g.context);
      // π_ref(y | x) on exactly the sequences trained.
      const refModel = usesReferenceModel(spec) ? referenceModelName(spec) : model;
      const refs = await withGuidedContextLogprobs(
        engine,
        refModel,
        seqs,
        seqs.map((s, index) => ({ index, stripped: s })),
        "strip",
        mb,
      );
      return {
        sequences: seqs.map((s, i) => ({ ...s, refLogprobs: refs[i]!.oldLogprobs })),
        loss: { ...baseLoss, kind: LossKind.LOSS_KIND_DPO, dpoBeta: g.dpoBeta },
        pairwise: true,
        dpoPairs: pairs.length,
      };
    }
    metrics?.dpoFallbackSteps.inc();
  }
  if (g.context === "keep" || batch.guided.length === 0) return plain;
  metrics?.guidedSequences.inc(batch.guided.length);
  const sequences = await withGuidedContextLogprobs(engine, model, batch.sequences, batch.guided, g.context, mb);
  return { ...plain, sequences };
}
