import type { contracts, ExperimentSpec } from "@sluice/common";
import type { ChannelScorer } from "./channel.js";

export type VetoConfig = ExperimentSpec["reward"]["veto"];

export const VETO_PRODUCER_VERSION = "veto/v1";
export const PATCH_TOO_LARGE = "patch_too_large";
export const INVALID_TOOL_CALLS = "invalid_tool_calls";
export const TESTS_MODIFIED = "tests_modified";

/** The verifier report as a flat object; {} when absent or not a JSON object. */
function report(t: contracts.Trajectory): Record<string, unknown> {
  if (!t.verifierReportJson) return {};
  try {
    const r: unknown = JSON.parse(t.verifierReportJson);
    return typeof r === "object" && r !== null && !Array.isArray(r) ? (r as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A rubric check as a veto channel: value 1 when it passes, 0 when it fails; weight 0. */
function vetoChannel(name: string, passes: (t: contracts.Trajectory) => boolean): ChannelScorer {
  return {
    name,
    veto: true,
    score: (t) => ({
      name,
      value: passes(t) ? 1 : 0,
      perTurn: [],
      producerVersion: VETO_PRODUCER_VERSION,
      gatePassed: true,
      weight: 0,
    }),
  };
}

/** The veto channels a config enables. */
export function vetoChannels(config: VetoConfig): ChannelScorer[] {
  const out: ChannelScorer[] = [];
  if (config.patchTooLarge.enabled) {
    const { maxBytes } = config.patchTooLarge;
    out.push(
      vetoChannel(PATCH_TOO_LARGE, (t) => {
        const r = report(t);
        if (r.patch_too_large === true) return false;
        const size = typeof r.size_bytes === "number" ? r.size_bytes : r.patch_bytes;
        return !(typeof size === "number" && size > maxBytes);
      }),
    );
  }
  if (config.invalidToolCalls.enabled) {
    const { max } = config.invalidToolCalls;
    out.push(
      vetoChannel(INVALID_TOOL_CALLS, (t) => {
        const invalid = t.turns.reduce((n, turn) => n + turn.toolCalls.filter((c) => !c.valid).length, 0);
        return invalid <= max;
      }),
    );
  }
  if (config.testsModified.enabled) {
    const { key } = config.testsModified;
    out.push(vetoChannel(TESTS_MODIFIED, (t) => !(t.metadata[key] === "true" || report(t)[key] === true)));
  }
  return out;
}
