import {
  BLOB_HEADER,
  contracts,
  experimentSubjects,
  openObjectStore,
  resolvePayload,
  withDeadline,
  type NatsHandles,
  type ObjectStore,
} from "@sluice/common";

/** What the run's episodes ended as, from the trajectory stream (summary.json `episodes`). */
export interface EpisodeStats {
  count: number;
  /** Trajectory.done_reason ("" → "none": environments without one). */
  done_reasons: Record<string, number>;
  /** Outcome level without the OUTCOME_LEVEL_ prefix. */
  outcome_levels: Record<string, number>;
  /** Failure kind without the FAILURE_KIND_ prefix; NONE for usable episodes. */
  failures: Record<string, number>;
  /** Messages that could not be read or decoded. */
  unreadable: number;
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Tallies one trajectory into the stats. */
export function tallyTrajectory(stats: EpisodeStats, t: contracts.Trajectory): void {
  stats.count++;
  bump(stats.done_reasons, t.doneReason || "none");
  bump(stats.outcome_levels, contracts.outcomeLevelToJSON(t.outcome?.level ?? 0).replace(/^OUTCOME_LEVEL_/, ""));
  bump(stats.failures, contracts.failureKindToJSON(t.failure).replace(/^FAILURE_KIND_/, ""));
}

export function emptyEpisodeStats(): EpisodeStats {
  return { count: 0, done_reasons: {}, outcome_levels: {}, failures: {}, unreadable: 0 };
}

/**
 * Reads every trajectory the run published (the stream keeps them: limits retention) and
 * tallies how episodes ended. Bounded by `timeoutMs` in all; what was read by then counts.
 */
export async function collectEpisodeStats(
  nats: NatsHandles,
  experiment: string,
  timeoutMs: number,
): Promise<EpisodeStats> {
  const names = experimentSubjects(experiment);
  const stats = emptyEpisodeStats();
  const deadline = Date.now() + timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const info = await withDeadline(nats.jsm.streams.info(names.trajStream), left(), "trajectory stream info");
  let blobs: ObjectStore | undefined;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && Date.now() < deadline; seq++) {
    try {
      const m = await withDeadline(nats.jsm.streams.getMessage(names.trajStream, { seq }), left(), "trajectory read");
      // A gap in the sequence (a deleted message) is nothing to count.
      if (m === null) continue;
      if (m.header.get(BLOB_HEADER)) blobs ??= await openObjectStore(nats.nc, names.blobBucket);
      const data = await withDeadline(resolvePayload(m.data, m.header, blobs), left(), "trajectory blob");
      tallyTrajectory(stats, contracts.Trajectory.decode(data));
    } catch {
      stats.unreadable++;
    }
  }
  return stats;
}
