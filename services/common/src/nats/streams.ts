import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos, type JetStreamManager } from "./connection.js";
import { experimentSubjects } from "./subjects.js";

export interface StreamOptions {
  /** Window in which a repeated Nats-Msg-Id is dropped as a duplicate. */
  duplicateWindowMs: number;
  /** The reservation asked for; halved (down to minBytes) while the server cannot reserve it. */
  maxBytes: number;
  /** Smallest reservation accepted before giving up with the server's error. */
  minBytes: number;
}

const DEFAULTS: StreamOptions = { duplicateWindowMs: 10 * 60_000, maxBytes: 4 * 1024 ** 3, minBytes: 64 * 1024 ** 2 };

/** What ensureStream settled on. */
export interface EnsuredStream {
  name: string;
  maxBytes: number;
  /** True when the server could not reserve the bytes asked for and a smaller reservation was taken. */
  reduced: boolean;
}

/**
 * Creates a stream, or updates an existing one's subjects and duplicate window; idempotent.
 *
 * JetStream reserves a file stream's max_bytes against the server's store limit (by default
 * 75% of the free disk), so a fixed size fails on a small disk with "insufficient storage
 * resources". The reservation is therefore halved until it fits, down to minBytes. An existing
 * stream keeps its reservation: shrinking it would discard stored messages (discard: old).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string[],
  options: Partial<StreamOptions> = {},
): Promise<EnsuredStream> {
  const o = { ...DEFAULTS, ...options };
  const config = (maxBytes: number) => ({
    name,
    subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(o.duplicateWindowMs),
    max_bytes: maxBytes,
  });
  const existing = await existingMaxBytes(jsm, name);
  if (existing !== undefined) {
    await jsm.streams.update(name, config(existing));
    return { name, maxBytes: existing, reduced: existing < o.maxBytes };
  }
  for (let bytes = o.maxBytes; ; bytes = Math.floor(bytes / 2)) {
    try {
      await jsm.streams.add(config(bytes));
      return { name, maxBytes: bytes, reduced: bytes < o.maxBytes };
    } catch (err) {
      if (!isInsufficientStorage(err) || bytes / 2 < o.minBytes) throw err;
    }
  }
}

/** Reservations of an experiment's streams when the disk allows; scaled down together when not. */
const EXPERIMENT_STREAM_BYTES = { traj: 4 * 1024 ** 3, scored: 4 * 1024 ** 3, events: 256 * 1024 ** 2 };
/** Smallest scale tried: 64 MiB for each trajectory stream. */
const MIN_EXPERIMENT_SCALE = 1 / 64;

/**
 * Streams of one experiment: trajectories (and final-evaluation ones), scored trajectories, events.
 *
 * New streams are sized together: when the server cannot reserve them all, the ones this call
 * created (still empty) are deleted and all are tried again at half the size, so one stream
 * never takes the whole store and leaves the others nothing.
 */
export async function ensureExperimentStreams(jsm: JetStreamManager, exp: string): Promise<EnsuredStream[]> {
  const s = experimentSubjects(exp);
  const plan = [
    { name: s.trajStream, subjects: [s.traj, s.eval], bytes: EXPERIMENT_STREAM_BYTES.traj },
    { name: s.scoredStream, subjects: [s.scored], bytes: EXPERIMENT_STREAM_BYTES.scored },
    { name: s.eventsStream, subjects: [s.events], bytes: EXPERIMENT_STREAM_BYTES.events },
  ];
  for (let scale = 1; ; scale /= 2) {
    const out: EnsuredStream[] = [];
    const created: string[] = [];
    try {
      for (const p of plan) {
        const bytes = Math.floor(p.bytes * scale);
        const existed = (await existingMaxBytes(jsm, p.name)) !== undefined;
        const got = await ensureStream(jsm, p.name, p.subjects, { maxBytes: bytes, minBytes: bytes });
        if (!existed) created.push(p.name);
        out.push({ ...got, reduced: got.maxBytes < p.bytes });
      }
      return out;
    } catch (err) {
      if (!isInsufficientStorage(err) || scale / 2 < MIN_EXPERIMENT_SCALE) throw err;
      for (const name of created) await jsm.streams.delete(name);
    }
  }
}

/** The reservation of an existing stream; undefined when there is no such stream. */
async function existingMaxBytes(jsm: JetStreamManager, name: string): Promise<number | undefined> {
  try {
    return (await jsm.streams.info(name)).config.max_bytes;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /not found/i.test(msg);
}

/** JetStream API error 10047: the server's store limit cannot hold the reservation. */
function isInsufficientStorage(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /insufficient storage/i.test(msg);
}
