import { contracts, experimentSubjects, type NatsHandles } from "@sluice/common";
import { readSubject } from "./stream-reader.js";

/** Episodes of one guidance round (0: first attempts; k: Agent-RLVR re-attempts of round k). */
export interface RoundStats {
  count: number;
  /** Outcome RESOLVED: every test passed. */
  resolved: number;
}

/** What the run's episodes ended as, from the trajectory stream (summary.json `episodes`). */
export interface EpisodeStats {
  count: number;
  /** Trajectory.done_reason ("" → "none": environments without one). */
  done_reasons: Record<string, number>;
  /** Outcome level without the OUTCOME_LEVEL_ prefix. */
  outcome_levels: Record<string, number>;
  /** Failure kind without the FAILURE_KIND_ prefix; NONE for usable episodes. */
  failures: Record<string, number>;
  /** By guidance round ("0" only without guidance): the pass rate of first attempts vs re-attempts. */
  by_guidance_round: Record<string, RoundStats>;
  /** Messages that could not be read or decoded. */
  unreadable: number;
  /** Messages in the stream when reading began; `count + unreadable` falls short only when `complete` is false. */
  stream_messages: number;
  /** False when the deadline cut the read short: the counts are of what was read by then. */
  complete: boolean;
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/** A failure kind without its FAILURE_KIND_ prefix (NONE for a usable episode). */
export function failureName(kind: contracts.FailureKind): string {
  return contracts.failureKindToJSON(kind).replace(/^FAILURE_KIND_/, "");
}

/** Tallies one trajectory into the stats. */
export function tallyTrajectory(stats: EpisodeStats, t: contracts.Trajectory): void {
  stats.count++;
  bump(stats.done_reasons, t.doneReason || "none");
  const level = contracts.outcomeLevelToJSON(t.outcome?.level ?? 0).replace(/^OUTCOME_LEVEL_/, "");
  bump(stats.outcome_levels, level);
  bump(stats.failures, failureName(t.failure));
  const round = (stats.by_guidance_round[String(t.guidanceRound ?? 0)] ??= { count: 0, resolved: 0 });
  round.count++;
  if (level === "RESOLVED") round.resolved++;
}

export function emptyEpisodeStats(): EpisodeStats {
  return {
    count: 0,
    done_reasons: {},
    outcome_levels: {},
    failures: {},
    by_guidance_round: {},
    unreadable: 0,
    stream_messages: 0,
    complete: true,
  };
}

/**
 * Tallies every trajectory the run published for training (final-evaluation trajectories on
 * the eval subject are not counted); bounded by `timeoutMs` in all, and when the deadline cuts
 * the read short the stats say so (`complete: false`).
 */
export async function collectEpisodeStats(
  nats: NatsHandles,
  experiment: string,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<EpisodeStats> {
  const names = experimentSubjects(experiment);
  const stats = emptyEpisodeStats();
  const read = await readSubject(
    nats,
    { stream: names.trajStream, subject: names.traj, blobBucket: names.blobBucket, timeoutMs, now },
    (data) => {
      try {
        tallyTrajectory(stats, contracts.Trajectory.decode(data));
      } catch {
        stats.unreadable++;
      }
    },
  );
  stats.unreadable += read.unreadable;
  stats.stream_messages = read.messages;
  stats.complete = read.complete;
  return stats;
}
