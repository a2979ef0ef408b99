import { contracts, errorMessage, validateTrajectory, type ExperimentSpec } from "@sluice/common";
import type { ChannelScorer } from "./channels/channel.js";
import { envStepsChannel } from "./channels/env-steps.js";
import { oniChannel, type LabelLookup } from "./channels/oni.js";
import type { OniModelScorer } from "./channels/oni-model.js";
import { outcomeChannel } from "./channels/outcome.js";
import { overlongChannel } from "./channels/overlong.js";
import { prmChannel } from "./channels/prm.js";
import { stepCriticsChannel } from "./channels/step-critics.js";
import { vetoChannels } from "./channels/veto.js";
import { compose, describeComposition } from "./composition/compose.js";
import { resolveGates } from "./composition/gates.js";
import { pureTransform } from "./composition/pure.js";
import { RewardConfigError, TrajectoryRejectedError, UnsupportedConfigError } from "./errors.js";

export type RewardConfig = ExperimentSpec["reward"];

/** The composition of the default config (every channel summed with its weight). */
export const COMPOSITION_SUM = "sum";

const { FailureKind } = contracts;

/** What some channels read besides the trajectory. */
export interface ChannelDeps {
  /** ONI's label store (required when `oni.enabled`). */
  labels?: LabelLookup;
  /** ONI's engine-hosted reward model (required for `oni.rewardType` classification / ranking). */
  oniModel?: OniModelScorer;
}

/** A channel whose weight is scaled by ONI's c_ext (r_t = c_ext · r_ext,t + c_int · …). */
function scaleWeight(channel: ChannelScorer, cExt: number): ChannelScorer {
  if (cExt === 1) return channel;
  return {
    ...channel,
    score: (t) => {
      const v = channel.score(t);
      return { ...v, weight: cExt * v.weight }; // c_ext · r_ext
    },
  };
}

/**
 * ONI's intrinsic channel, when enabled: retrieval reads the label store; classification and
 * ranking read the engine-hosted reward model (scored asynchronously per trajectory, see
 * judgedChannels; this synchronous face gives the last values computed).
 */
function oniChannels(config: RewardConfig, deps: ChannelDeps): ChannelScorer[] {
  if (!config.oni.enabled) return [];
  if (config.oni.rewardType !== "retrieval") {
    if (!deps.oniModel) {
      throw new UnsupportedConfigError(
        `oni.rewardType "${config.oni.rewardType}" needs the engine-hosted reward model (ChannelDeps.oniModel)`,
      );
    }
    return [deps.oniModel.syncChannel()];
  }
  if (!deps.labels) throw new RewardConfigError("oni.enabled needs the ONI label store");
  return [oniChannel(config.oni, deps.labels)];
}

/**
 * The channels a reward config enables, in composition order. Throws RewardConfigError
 * when a G-RA gate or the PURE transform names a channel that is not enabled.
 */
export function buildChannels(config: RewardConfig, deps: ChannelDeps = {}): ChannelScorer[] {
  const extrinsic: ChannelScorer[] = [outcomeChannel(config.outcome)];
  if (config.stepCritics.enabled) extrinsic.push(stepCriticsChannel(config.stepCritics));
  if (config.envSteps.enabled) {
    // With source "score" the outcome channel already carries the per-turn scores.
    if (config.outcome.source === "score") {
      throw new RewardConfigError(
        'envSteps.enabled with outcome.source "score" would count the environment\'s per-turn scores twice; use outcome.source "level"',
      );
    }
    extrinsic.push(envStepsChannel(config.envSteps));
  }
  if (config.overlong.enabled) extrinsic.push(overlongChannel(config.overlong));
  if (config.prm.enabled) extrinsic.push(prmChannel(config.prm));
  const cExt = config.oni.enabled ? config.oni.cExt : 1;
  const channels = [...extrinsic.map((c) => scaleWeight(c, cExt)), ...oniChannels(config, deps)];
  channels.push(...vetoChannels(config.veto));
  const names = new Set(channels.filter((c) => c.veto !== true).map((c) => c.name));
  const gated = config.composition.kind === "gra" ? config.composition.gates.map((g) => g.channel) : [];
  for (const name of [...gated, ...config.pure.channels]) {
    if (!names.has(name)) {
      throw new RewardConfigError(`"${name}" is not an enabled reward channel (enabled: ${[...names].join(", ")})`);
    }
  }
  return channels;
}

/** The name and parameters of the composition a config uses, as recorded on scored trajectories. */
export function compositionName(config: RewardConfig, channels: readonly ChannelScorer[]): string {
  return describeComposition(
    config.composition.kind,
    resolveGates(config),
    channels.map((c) => c.name),
    new Set(channels.filter((c) => c.veto === true).map((c) => c.name)),
    config.pure,
  );
}

/** A channel's value after the configured PURE min-form transform of its per-turn values. */
function applyPure(ch: contracts.RewardChannel, config: RewardConfig): contracts.RewardChannel {
  if (!config.pure.channels.includes(ch.name) || ch.perTurn.length === 0) return ch;
  const perTurn = pureTransform(ch.perTurn, config.pure.temperature);
  // Episode value = Σ_i r′_i ≈ min_i r_i (PURE, arXiv 2504.15275)
  return { ...ch, perTurn, value: perTurn.reduce((a, b) => a + b, 0) };
}

/** True when the episode failed for an infrastructure reason (masked by the learner). */
export function isInfrastructureFailure(t: contracts.Trajectory): boolean {
  return t.failure !== FailureKind.FAILURE_KIND_UNSPECIFIED && t.failure !== FailureKind.FAILURE_KIND_NONE;
}

/**
 * Scores one trajectory: every channel's value, their weighted sum, and per-turn
 * rewards aligned with the turns. Throws TrajectoryRejectedError for trajectories
 * that cannot be scored. Infrastructure failures are not rejected: they pass through
 * with reward 0 and every channel gated off; their `failure` field tells the learner
 * to mask them.
 */
export function scoreTrajectory(
  trajectory: contracts.Trajectory,
  config: RewardConfig,
  channels: readonly ChannelScorer[] = buildChannels(config),
  now: () => number = Date.now,
  external: ReadonlyMap<string, contracts.RewardChannel> = new Map(),
): contracts.ScoredTrajectory {
  try {
    validateTrajectory(trajectory);
  } catch (err) {
    throw new TrajectoryRejectedError(trajectory.trajectoryId, "inconsistent", errorMessage(err), { cause: err });
  }
  const composition = compositionName(config, channels);
  if (isInfrastructureFailure(trajectory)) {
    return {
      trajectory,
      channels: channels.map((c) => ({
        name: c.name,
        value: 0,
        perTurn: [],
        producerVersion: "",
        gatePassed: false,
        weight: 0,
      })),
      reward: 0,
      perTurnReward: [],
      composition,
      scoredAtMs: now(),
    };
  }
  // A channel scored outside (asynchronously, e.g. the PRM judge) replaces its synchronous face.
  const values = channels.map((c) => applyPure(external.get(c.name) ?? c.score(trajectory), config));
  const composed = compose(values, {
    kind: config.composition.kind,
    gates: resolveGates(config),
    vetoes: new Set(channels.filter((c) => c.veto === true).map((c) => c.name)),
    turns: trajectory.turns.length,
  });
  return { trajectory, ...composed, composition, scoredAtMs: now() };
}

export interface BatchResult {
  scored: contracts.ScoredTrajectory[];
  rejected: TrajectoryRejectedError[];
}

/** Scores a batch; a rejected trajectory does not affect the others. */
export function scoreBatch(
  trajectories: readonly contracts.Trajectory[],
  config: RewardConfig,
  deps: ChannelDeps = {},
  external: (t: contracts.Trajectory) => ReadonlyMap<string, contracts.RewardChannel> = () => new Map(),
): BatchResult {
  const channels = buildChannels(config, deps);
  const out: BatchResult = { scored: [], rejected: [] };
  for (const t of trajectories) {
    try {
      out.scored.push(scoreTrajectory(t, config, channels, Date.now, external(t)));
    } catch (err) {
      if (!(err instanceof TrajectoryRejectedError)) throw err;
      out.rejected.push(err);
    }
  }
  return out;
}
