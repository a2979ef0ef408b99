import { headers, type MsgHdrs } from "@nats-io/transport-node";
import { TransportError } from "../errors.js";
import type { NatsHandles, ObjectStore } from "./connection.js";
import { BLOB_HEADER } from "./subjects.js";

export interface PublishResult {
  seq: number;
  duplicate: boolean;
  /** True when the payload went to the object store and the message carries a reference. */
  offloaded: boolean;
}

/**
 * Publishes to JetStream with a Nats-Msg-Id, so a retried publish inside the stream's
 * duplicate window is stored once. Payloads over the server's message limit go to
 * the object store under `<subject>/<msg id>`, and the message carries only the reference.
 */
export class DedupePublisher {
  constructor(
    private readonly nats: NatsHandles,
    private readonly blobs: ObjectStore | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  async publish(subject: string, data: Uint8Array, msgId: string): Promise<PublishResult> {
    const hdrs: MsgHdrs = headers();
    let payload = data;
    let offloaded = false;
    // Leave room for headers and protocol overhead under max_payload.
    if (data.length > this.nats.maxPayloadBytes - 4096) {
      if (!this.blobs) {
        throw new TransportError(
          `payload of ${data.length} bytes for ${subject} exceeds the ${this.nats.maxPayloadBytes}-byte limit and no object store is configured`,
          { retryable: false },
        );
      }
      // The blob name carries the subject: one trajectory id is the msg id on several
      // streams (traj, scored), and their blobs must not overwrite each other.
      const blobName = `${subject}/${msgId}`;
      try {
        await this.blobs.putBlob({ name: blobName }, data);
      } catch (cause) {
        throw new TransportError(
          `offloading ${data.length} bytes for ${subject} (msg id ${msgId}) to the object store failed`,
          {
            cause,
          },
        );
      }
      hdrs.set(BLOB_HEADER, blobName);
      payload = new Uint8Array(0);
      offloaded = true;
    }
    try {
      const ack = await this.nats.js.publish(subject, payload, {
        msgID: msgId,
        headers: hdrs,
        timeout: this.timeoutMs,
      });
      return { seq: ack.seq, duplicate: ack.duplicate, offloaded };
    } catch (cause) {
      throw new TransportError(`publish to ${subject} (msg id ${msgId}) failed`, { cause });
    }
  }
}

/** Resolves a message body that may have been offloaded to the object store. */
export async function resolvePayload(
  data: Uint8Array,
  hdrs: MsgHdrs | undefined,
  blobs: ObjectStore | undefined,
): Promise<Uint8Array> {
  const ref = hdrs?.get(BLOB_HEADER);
  if (!ref) return data;
  if (!blobs) throw new TransportError(`message references blob ${ref} but no object store is open`);
  const blob = await blobs.getBlob(ref);
  if (!blob) throw new TransportError(`blob ${ref} referenced by a message is missing`, { retryable: false });
  return blob;
}
