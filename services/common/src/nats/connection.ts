import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { TransportError } from "../errors.js";
import { withDeadline } from "../deadline.js";

export { nanos };
export type { NatsConnection, JetStreamClient, JetStreamManager, KV, ObjectStore };

export interface NatsHandles {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Largest message the server accepts (max_payload), in bytes. */
  maxPayloadBytes: number;
  close(): Promise<void>;
}

export async function connectNats(servers: string, name: string, timeoutMs = 10_000): Promise<NatsHandles> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, name, timeout: timeoutMs, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  } catch (cause) {
    throw new TransportError(`cannot connect to NATS at ${servers}`, { cause });
  }
  const jsm = await withDeadline(jetstreamManager(nc, { timeout: timeoutMs }), timeoutMs, "JetStream manager");
  return {
    nc,
    js: jetstream(nc, { timeout: timeoutMs }),
    jsm,
    maxPayloadBytes: nc.info?.max_payload ?? 1024 * 1024,
    close: async () => {
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}

export async function openKv(nc: NatsConnection, bucket: string): Promise<KV> {
  return new Kvm(nc).create(bucket, { history: 5 });
}

export async function openObjectStore(nc: NatsConnection, bucket: string): Promise<ObjectStore> {
  return new Objm(nc).create(bucket);
}
