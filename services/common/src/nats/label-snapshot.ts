import type { NatsConnection } from "@nats-io/transport-node";
import { errorMessage, SluiceError, ValidationError } from "../errors.js";
import { experimentSubjects } from "./subjects.js";

/**
 * ONI's label store lives in the reward service; the learner's checkpoint asks it, over
 * NATS request-reply, to write a snapshot next to the weights (and, on resume, to load
 * it back). Both sides speak these JSON messages.
 */
export interface LabelSnapshotRequest {
  /** Absolute path of the snapshot file. */
  path: string;
}

export type LabelSnapshotReply = { ok: true; version: number; labels: number } | { ok: false; error: string };

/** The label-store owner failed, or nobody answered before the deadline. */
export class LabelSnapshotError extends SluiceError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
    this.name = "LabelSnapshotError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeLabelSnapshotMessage(m: LabelSnapshotRequest | LabelSnapshotReply): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

export function decodeLabelSnapshotRequest(data: Uint8Array): LabelSnapshotRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch (cause) {
    throw new ValidationError("label snapshot request: not JSON", { cause });
  }
  const path = (raw as { path?: unknown } | null)?.path;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new ValidationError("label snapshot request: path must be an absolute path");
  }
  return { path };
}

function decodeReply(data: Uint8Array): LabelSnapshotReply {
  const raw = JSON.parse(decoder.decode(data)) as Partial<{
    ok: boolean;
    version: number;
    labels: number;
    error: string;
  }>;
  if (raw.ok === true && typeof raw.version === "number" && typeof raw.labels === "number") {
    return { ok: true, version: raw.version, labels: raw.labels };
  }
  return { ok: false, error: typeof raw.error === "string" ? raw.error : "malformed reply" };
}

/** Asks the label store's owner to snapshot (or restore) `path`; throws LabelSnapshotError. */
export async function requestLabelSnapshot(
  nc: NatsConnection,
  experiment: string,
  op: "snapshot" | "restore",
  path: string,
  timeoutMs: number,
): Promise<{ version: number; labels: number }> {
  const s = experimentSubjects(experiment);
  const subject = op === "snapshot" ? s.oniSnapshot : s.oniRestore;
  let reply: LabelSnapshotReply;
  try {
    const msg = await nc.request(subject, encodeLabelSnapshotMessage({ path }), { timeout: timeoutMs });
    reply = decodeReply(msg.data);
  } catch (cause) {
    throw new LabelSnapshotError(`ONI label ${op} of ${path} on ${subject}: ${errorMessage(cause)}`, { cause });
  }
  if (!reply.ok) throw new LabelSnapshotError(`ONI label ${op} of ${path} failed: ${reply.error}`);
  return { version: reply.version, labels: reply.labels };
}
