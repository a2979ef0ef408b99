import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos, type JetStreamManager } from "./connection.js";
import { experimentSubjects } from "./subjects.js";

export interface StreamOptions {
  /** Window in which a repeated Nats-Msg-Id is dropped as a duplicate. */
  duplicateWindowMs: number;
  maxBytes: number;
}

const DEFAULTS: StreamOptions = { duplicateWindowMs: 10 * 60_000, maxBytes: 4 * 1024 ** 3 };

/** Creates (or updates) one stream; idempotent. */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string[],
  options: Partial<StreamOptions> = {},
): Promise<void> {
  const o = { ...DEFAULTS, ...options };
  const config = {
    name,
    subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(o.duplicateWindowMs),
    max_bytes: o.maxBytes,
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}

/** Streams of one experiment: trajectories, scored trajectories, events. */
export async function ensureExperimentStreams(jsm: JetStreamManager, exp: string): Promise<void> {
  const s = experimentSubjects(exp);
  await ensureStream(jsm, s.trajStream, [s.traj]);
  await ensureStream(jsm, s.scoredStream, [s.scored]);
  await ensureStream(jsm, s.eventsStream, [s.events], { maxBytes: 256 * 1024 ** 2 });
}

function isNotFound(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /not found/i.test(msg);
}
