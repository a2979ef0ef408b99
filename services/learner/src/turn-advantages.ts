import { groupAdvantages, type AdvantageOptions } from "./advantages.js";

/**
 * Turn-level credit assignment for multi-turn episodes (turn-level GRPO, as in MT-GRPO:
 * Zeng et al. 2025, arXiv 2505.11821). Every turn index t forms its own group statistic
 * over the members that reached turn t:
 *   Â_{i,t} = A({r_{j,t} : j has turn t})_i    (A = the configured estimator, e.g. GRPO)
 * so a correct answer in turn 2 is not blamed for a wrong one in turn 3. Members of a
 * group share the task, so turn t of every member answers the same kind of question.
 */
export function turnAdvantages(perTurn_G: readonly (readonly number[])[], o: AdvantageOptions): number[][] {
  const out_G_T: number[][] = perTurn_G.map((r_T) => new Array<number>(r_T.length).fill(0));
  const maxTurns = Math.max(0, ...perTurn_G.map((r) => r.length));
  for (let t = 0; t < maxTurns; t++) {
    const members = perTurn_G.flatMap((r_T, i) => (t < r_T.length ? [i] : []));
    const adv = groupAdvantages(
      members.map((i) => perTurn_G[i]![t]!),
      o,
    );
    members.forEach((i, k) => {
      out_G_T[i]![t] = adv[k] ?? 0;
    });
  }
  return out_G_T;
}
