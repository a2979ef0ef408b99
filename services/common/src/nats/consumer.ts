import { AckPolicy, DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import { nanos, type NatsHandles } from "./connection.js";

export interface DurableConsumerOptions {
  stream: string;
  durable: string;
  filterSubject?: string;
  /** Unacked messages the server hands out before it stops delivering (backpressure). */
  maxAckPending: number;
  /** Redelivery delay for a message handed out and neither acked nor extended. */
  ackWaitMs: number;
  /** Deliveries before the server gives up on a message (-1: unlimited). */
  maxDeliver?: number;
}

/** Creates or updates a durable pull consumer with explicit acks. */
export async function ensureDurableConsumer(nats: NatsHandles, o: DurableConsumerOptions): Promise<void> {
  const config = {
    durable_name: o.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: o.maxAckPending,
    ack_wait: nanos(o.ackWaitMs),
    max_deliver: o.maxDeliver ?? -1,
    ...(o.filterSubject ? { filter_subject: o.filterSubject } : {}),
  };
  try {
    await nats.jsm.consumers.info(o.stream, o.durable);
    await nats.jsm.consumers.update(o.stream, o.durable, config);
  } catch {
    await nats.jsm.consumers.add(o.stream, config);
  }
}

/**
 * Fetches up to `max` messages, waiting at most `expiresMs` for the first ones.
 * Returns an empty batch on timeout: callers poll in a loop with their own watchdog.
 */
export async function fetchBatch(
  nats: NatsHandles,
  stream: string,
  durable: string,
  max: number,
  expiresMs: number,
): Promise<JsMsg[]> {
  const consumer = await nats.js.consumers.get(stream, durable);
  const iter = await consumer.fetch({ max_messages: max, expires: Math.max(1000, expiresMs) });
  const out: JsMsg[] = [];
  for await (const m of iter) out.push(m);
  return out;
}

export type { JsMsg };
