import type { Trajectory } from "./gen/sluice/v1/trajectory.js";

/**
 * A trajectory as text for an outcome reward model: each turn's observation and action, with
 * any Agent-RLVR guidance cut out of the observations. It is what the model sees at test time,
 * where no guidance exists, so guided training data and fresh evaluation samples read alike.
 */
export function unguidedTranscript(t: Trajectory): string {
  return t.turns
    .map((turn, i) => {
      let obs = turn.observationText;
      for (const g of t.guidance) if (g.injectedAtTurn === i && g.text) obs = obs.split(g.text).join("");
      return `${obs.trimEnd()}\n${turn.actionText}`;
    })
    .join("\n");
}
