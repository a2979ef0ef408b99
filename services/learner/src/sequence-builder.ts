import { contracts, packFloat32, packInt32, packUint8, unpackFloat32, unpackInt32 } from "@sluice/common";

/** A training sequence plus what the learner needs to account for it. */
export interface BuiltSequence {
  sequence: contracts.TrainingSequence;
  /** Positions with loss_mask 1 (targets the loss sees). */
  lossTokens: number;
  /** Total tokens n (observations + actions). */
  tokens: number;
}

/**
 * Trajectory → engine TrainingSequence.
 *
 * token_ids = concat over turns of (observation ids, action ids), length n. The
 * per-position arrays have length n − 1 and are aligned with the targets
 * token_ids[1:]: entry t scores token t + 1.
 *   loss_mask[t]    = 1 iff token t+1 is an action token whose action_loss_mask is 1
 *                     (an empty mask means all ones)
 *   advantages[t]   = Â where loss_mask[t] = 1, else 0 (one scalar per episode)
 *   old_logprobs[t] = behaviour logprob of action token t+1, else 0
 * An action token at position 0 has no context and is never a target.
 */
/**
 * `advantage` is one value for every action token (episode-level credit) or one value per
 * turn, aligned with `t.turns` (turn-level credit).
 */
export function buildTrainingSequence(t: contracts.Trajectory, advantage: number | readonly number[]): BuiltSequence {
  const advantageOfTurn = (i: number): number => (typeof advantage === "number" ? advantage : (advantage[i] ?? 0));
  const ids: number[] = [];
  const isLoss: boolean[] = [];
  const logprob: number[] = [];
  const adv: number[] = [];
  t.turns.forEach((turn, i) => {
    const obs = unpackInt32(turn.observationTokenIds, `turn ${i} observation_token_ids`);
    for (const id of obs) {
      ids.push(id);
      isLoss.push(false);
      logprob.push(0);
      adv.push(0);
    }
    const act = unpackInt32(turn.actionTokenIds, `turn ${i} action_token_ids`);
    const lps = unpackFloat32(turn.actionLogprobs, `turn ${i} action_logprobs`);
    const mask = turn.actionLossMask;
    act.forEach((id, k) => {
      ids.push(id);
      isLoss.push(mask.length === 0 || mask[k] === 1);
      logprob.push(lps[k] ?? 0);
      adv.push(advantageOfTurn(i));
    });
  });
  const n = ids.length;
  const m = Math.max(0, n - 1);
  const lossMask_T = new Uint8Array(m);
  const adv_T = new Float32Array(m);
  const oldLp_T = new Float32Array(m);
  let lossTokens = 0;
  for (let p = 0; p < m; p++) {
    if (!isLoss[p + 1]) continue;
    lossMask_T[p] = 1;
    adv_T[p] = adv[p + 1] ?? 0;
    oldLp_T[p] = logprob[p + 1] ?? 0;
    lossTokens++;
  }
  return {
    sequence: {
      tokenIds: packInt32(ids),
      lossMask: packUint8(lossMask_T),
      advantages: packFloat32(adv_T),
      oldLogprobs: packFloat32(oldLp_T),
      // Filled by the learner when the loss needs them (proximal: recomputed before the step).
      proxLogprobs: new Uint8Array(),
      refLogprobs: new Uint8Array(),
    },
    lossTokens,
    tokens: n,
  };
}

/**
 * Policy version of the oldest action token (a resumed partial rollout mixes versions);
 * a trajectory without action tokens falls back to its admitted version.
 */
export function oldestActionVersion(t: contracts.Trajectory): number {
  let oldest = Number.POSITIVE_INFINITY;
  t.turns.forEach((turn, i) => {
    for (const v of unpackInt32(turn.actionPolicyVersions, `turn ${i} action_policy_versions`)) {
      if (v < oldest) oldest = v;
    }
  });
  return Number.isFinite(oldest) ? oldest : t.admittedPolicyVersion;
}
