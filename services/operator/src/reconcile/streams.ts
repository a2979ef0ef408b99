import {
  KV_KEYS,
  connectNats,
  contracts,
  ensureExperimentStreams,
  errorMessage,
  experimentSubjects,
  openKv,
  openObjectStore,
  withDeadline,
  type Logger,
  type NatsHandles,
} from "@sluice/common";
import { StreamsError } from "../errors.js";
import type { ProgressSource, PublishedPolicy } from "./progress.js";

/** The experiment's NATS resources: what Kubernetes cannot garbage-collect. */
export interface ExperimentStreams {
  /** Streams, KV bucket and object bucket exist (idempotent). */
  ensure(experiment: string): Promise<void>;
  /** All of them are gone (idempotent: missing ones are fine). */
  remove(experiment: string): Promise<void>;
}

const CALL_DEADLINE_MS = 20_000;

/**
 * One NATS connection for every experiment the operator manages: ensures and removes the
 * experiment's JetStream resources with the same helpers the services use (so names and sizes
 * agree), and reads the learner's `policy` record for the progress block.
 */
export class NatsExperimentResources implements ExperimentStreams, ProgressSource {
  private handles: Promise<NatsHandles> | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  async ensure(experiment: string): Promise<void> {
    try {
      await withDeadline(this.ensureAll(experiment), CALL_DEADLINE_MS, `NATS resources of ${experiment}`);
    } catch (cause) {
      this.resetOnTransportError(cause);
      throw new StreamsError(experiment, "ensure", { cause });
    }
  }

  async remove(experiment: string): Promise<void> {
    try {
      await withDeadline(this.removeAll(experiment), CALL_DEADLINE_MS, `removing NATS resources of ${experiment}`);
    } catch (cause) {
      this.resetOnTransportError(cause);
      throw new StreamsError(experiment, "remove", { cause });
    }
  }

  async read(experiment: string): Promise<PublishedPolicy | undefined> {
    const nats = await this.connect();
    const names = experimentSubjects(experiment);
    // Only look: the bucket is created by ensure(); reading must not create it for a deleted experiment.
    if (!(await streamExists(nats, `KV_${names.kvBucket}`))) return undefined;
    const kv = await openKv(nats.nc, names.kvBucket);
    const entry = await withDeadline(kv.get(KV_KEYS.policy), CALL_DEADLINE_MS, `policy record of ${experiment}`);
    if (!entry || entry.value.length === 0) return undefined;
    const r = contracts.PolicyRecord.decode(entry.value);
    return { step: Number(r.step), policyVersion: r.version, publishedAtMs: Number(r.publishedAtMs) };
  }

  async close(): Promise<void> {
    const h = this.handles;
    this.handles = undefined;
    if (h) await (await h.catch(() => undefined))?.close();
  }

  private async ensureAll(experiment: string): Promise<void> {
    const nats = await this.connect();
    const names = experimentSubjects(experiment);
    await ensureExperimentStreams(nats.jsm, experiment);
    await openKv(nats.nc, names.kvBucket);
    await openObjectStore(nats.nc, names.blobBucket);
  }

  private async removeAll(experiment: string): Promise<void> {
    const nats = await this.connect();
    const names = experimentSubjects(experiment);
    // KV and object buckets are streams named KV_<bucket> and OBJ_<bucket>.
    const streams = [
      names.trajStream,
      names.scoredStream,
      names.eventsStream,
      `KV_${names.kvBucket}`,
      `OBJ_${names.blobBucket}`,
    ];
    for (const s of streams) {
      try {
        await nats.jsm.streams.delete(s);
      } catch (err) {
        if (!/not found/i.test(errorMessage(err))) throw err;
      }
    }
  }

  private connect(): Promise<NatsHandles> {
    this.handles ??= connectNats(this.url, "sluice-operator").catch((err: unknown) => {
      this.handles = undefined;
      throw err;
    });
    return this.handles;
  }

  private resetOnTransportError(err: unknown): void {
    this.logger.warn("NATS call failed", { err: errorMessage(err) });
  }
}

async function streamExists(nats: NatsHandles, name: string): Promise<boolean> {
  try {
    await nats.jsm.streams.info(name);
    return true;
  } catch (err) {
    if (/not found/i.test(errorMessage(err))) return false;
    throw err;
  }
}
