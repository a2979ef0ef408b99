import type { contracts, ExperimentSpec } from "@sluice/common";
import type { ChannelScorer } from "./channel.js";

export type StepCriticsConfig = ExperimentSpec["reward"]["stepCritics"];
type CriticConfig = StepCriticsConfig["validToolCall"];

export const STEPS_CHANNEL = "steps";
export const STEPS_PRODUCER_VERSION = "step-critics/v1";

/** A check's verdict on one turn: pass, fail, or not applicable (scores 0). */
type Verdict = "pass" | "fail" | "n/a";

function value(critic: CriticConfig, verdict: Verdict): number {
  if (!critic.enabled || verdict === "n/a") return 0;
  return verdict === "pass" ? critic.reward : critic.penalty;
}

function allOf(calls: readonly contracts.ToolCall[], ok: (c: contracts.ToolCall) => boolean): Verdict {
  if (calls.length === 0) return "n/a";
  return calls.every(ok) ? "pass" : "fail";
}

/** The editor's `command` argument, or "" when the arguments are not a JSON object with one. */
function editorCommand(call: contracts.ToolCall): string {
  try {
    const args: unknown = JSON.parse(call.argumentsJson);
    if (typeof args === "object" && args !== null && "command" in args && typeof args.command === "string") {
      return args.command;
    }
  } catch {
    // Unparseable arguments: not an edit we can recognise.
  }
  return "";
}

function sameAction(a: contracts.Turn, b: contracts.Turn): boolean {
  if (a.actionText !== b.actionText || a.toolCalls.length !== b.toolCalls.length) return false;
  return a.toolCalls.every((c, i) => {
    const d = b.toolCalls[i];
    return d !== undefined && c.name === d.name && c.argumentsJson === d.argumentsJson;
  });
}

/** Per-turn critic values, aligned with `t.turns`: the sum of every enabled critic's value. */
export function stepCriticValues(t: contracts.Trajectory, config: StepCriticsConfig): number[] {
  const bash = new Set(config.bashTools);
  const editors = new Set(config.editTools);
  const editCommands = new Set(config.editCommands);
  return t.turns.map((turn, i) => {
    const calls = turn.toolCalls;
    const valid = allOf(calls, (c) => c.valid);
    const commands = allOf(
      calls.filter((c) => bash.has(c.name)),
      (c) => c.valid && c.exitCode === 0,
    );
    const edits = allOf(
      calls.filter((c) => editors.has(c.name) && editCommands.has(editorCommand(c))),
      (c) => c.valid && c.exitCode === 0,
    );
    const previous = i > 0 ? t.turns[i - 1] : undefined;
    const repeat: Verdict = previous === undefined ? "n/a" : sameAction(turn, previous) ? "fail" : "pass";
    return (
      value(config.validToolCall, valid) +
      value(config.commandSucceeded, commands) +
      value(config.editApplied, edits) +
      value(config.noRepeat, repeat)
    );
  });
}

/**
 * Rule-based step critics (G-RA's low-level rewards r_low,t, arXiv 2508.10548): well-formed
 * valid tool calls, commands that exit 0, edits that apply, no exact repeat of the previous
 * action. Episode value = Σ_t r_low,t.
 */
export function stepCriticsChannel(config: StepCriticsConfig): ChannelScorer {
  return {
    name: STEPS_CHANNEL,
    score(t) {
      const perTurn = stepCriticValues(t, config);
      return {
        name: STEPS_CHANNEL,
        value: perTurn.reduce((a, b) => a + b, 0),
        perTurn,
        producerVersion: STEPS_PRODUCER_VERSION,
        gatePassed: true,
        weight: config.weight,
      };
    },
  };
}
