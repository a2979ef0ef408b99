import {
  BLOB_HEADER,
  openObjectStore,
  resolvePayload,
  withDeadline,
  type NatsHandles,
  type ObjectStore,
} from "@sluice/common";

/** What readSubject read. */
export interface SubjectRead {
  /** Messages of the subject in the stream when reading began. */
  messages: number;
  /** Payloads handed to `onPayload` (it may still reject some: that is its count to keep). */
  read: number;
  /** Messages whose payload (blob) could not be fetched. */
  unreadable: number;
  /** False when the deadline cut the read short. */
  complete: boolean;
}

/** Messages per pull from the ordered consumer. */
const READ_BATCH = 1_000;

/** Messages of one subject in a stream (a per-subject count from the server, no read). */
export async function subjectMessages(
  nats: NatsHandles,
  stream: string,
  subject: string,
  timeoutMs: number,
): Promise<number> {
  const info = await withDeadline(
    nats.jsm.streams.info(stream, { subjects_filter: subject }),
    timeoutMs,
    `${stream} info`,
  );
  return info.state.subjects?.[subject] ?? 0;
}

/**
 * Reads every message of `subject` in `stream` (limits retention keeps them) through an
 * ordered consumer, in batches, resolving blob-backed payloads; bounded by `timeoutMs` in all
 * (by the clock `now`), and says when the deadline cut it short.
 */
export async function readSubject(
  nats: NatsHandles,
  o: { stream: string; subject: string; blobBucket: string; timeoutMs: number; now?: () => number },
  onPayload: (data: Uint8Array) => void,
): Promise<SubjectRead> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const left = (): number => Math.max(1, deadline - now());
  const info = await withDeadline(
    nats.jsm.streams.info(o.stream, { subjects_filter: o.subject }),
    left(),
    `${o.stream} info`,
  );
  const out: SubjectRead = { messages: info.state.subjects?.[o.subject] ?? 0, read: 0, unreadable: 0, complete: true };
  if (out.messages === 0) return out;
  const lastSeq = info.state.last_seq;
  const consumer = await withDeadline(
    // One subject as a string: filter_subject, which nats-server 2.9 knows (filter_subjects needs 2.10).
    nats.js.consumers.get(o.stream, { filter_subjects: o.subject }),
    left(),
    `${o.stream} reader`,
  );
  let blobs: ObjectStore | undefined;
  let seq = 0;
  try {
    while (seq < lastSeq && out.read + out.unreadable < out.messages && now() < deadline) {
      const batch = await consumer.fetch({ max_messages: READ_BATCH, expires: Math.min(5_000, left()) });
      let got = 0;
      for await (const m of batch) {
        got++;
        seq = m.seq;
        try {
          if (m.headers?.get(BLOB_HEADER)) blobs ??= await openObjectStore(nats.nc, o.blobBucket);
          const data = await withDeadline(resolvePayload(m.data, m.headers, blobs), left(), `${o.stream} blob`);
          out.read++;
          onPayload(data);
        } catch {
          out.unreadable++;
        }
        if (seq >= lastSeq || now() >= deadline) break;
      }
      if (got === 0) break; // nothing more within the fetch's wait: the rest was deleted
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  out.complete = out.read + out.unreadable >= out.messages;
  return out;
}
