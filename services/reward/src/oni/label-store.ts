import { readFile, rename, writeFile } from "node:fs/promises";
import { TransportError, ValidationError, errorMessage, openKv, type KV, type NatsConnection } from "@sluice/common";

/** KV bucket of an experiment's ONI labels: `sluice_<exp>_oni_labels`. */
export function labelBucketName(experiment: string, suffix = "oni_labels"): string {
  return `sluice_${experiment.replace(/-/g, "_")}_${suffix}`;
}

/** Where the annotator publishes `{key → label}`. */
export interface LabelSink {
  has(key: string): boolean;
  putMany(labels: ReadonlyMap<string, number>): Promise<number>;
}

/** A label-store snapshot, written next to a learner checkpoint. */
export interface LabelSnapshot {
  format: "sluice-oni-labels/1";
  bucket: string;
  version: number;
  labels: Record<string, number>;
}

const LOAD_CONCURRENCY = 64;

/**
 * ONI's label store in a NATS JetStream KV bucket, with an in-memory cache for
 * synchronous lookups. `version` is the highest KV revision seen (it grows with every
 * label written), and is what a scored sample records as the label-store version.
 */
export class KvLabelStore implements LabelSink {
  private readonly cache = new Map<string, number>();
  private maxRevision = 0;

  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
  ) {}

  /** Opens (or creates) the bucket and loads every label in it. */
  static async open(nc: NatsConnection, bucket: string): Promise<KvLabelStore> {
    let kv: KV;
    try {
      kv = await openKv(nc, bucket);
    } catch (cause) {
      throw new TransportError(`ONI label store: cannot open KV bucket ${bucket}`, { cause, context: { bucket } });
    }
    const store = new KvLabelStore(kv, bucket);
    await store.refresh();
    return store;
  }

  /** Re-reads every key from KV (labels written by other processes). */
  async refresh(): Promise<void> {
    const keys: string[] = [];
    try {
      for await (const k of await this.kv.keys()) keys.push(k);
      for (let i = 0; i < keys.length; i += LOAD_CONCURRENCY) {
        await Promise.all(keys.slice(i, i + LOAD_CONCURRENCY).map((k) => this.fetch(k)));
      }
    } catch (cause) {
      throw new TransportError(`ONI label store: cannot load ${this.bucket}: ${errorMessage(cause)}`, {
        cause,
        context: { bucket: this.bucket, keysSeen: keys.length },
      });
    }
  }

  /** Reads one label from KV (and caches it); undefined when absent. */
  async fetch(key: string): Promise<number | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== "PUT") return undefined;
    const label = parseLabel(key, entry.string());
    this.remember(key, label, entry.revision);
    return label;
  }

  has(key: string): boolean {
    return this.cache.has(key);
  }

  /** The cached label of `key`, or `fallback`. */
  get(key: string, fallback = 0): number {
    return this.cache.get(key) ?? fallback;
  }

  async put(key: string, label: number): Promise<number> {
    if (!Number.isFinite(label)) throw new ValidationError(`ONI label store: label of ${key} is not finite: ${label}`);
    let revision: number;
    try {
      revision = await this.kv.put(key, JSON.stringify({ label }));
    } catch (cause) {
      throw new TransportError(`ONI label store: put ${key} into ${this.bucket} failed`, {
        cause,
        context: { bucket: this.bucket, key },
      });
    }
    this.remember(key, label, revision);
    return this.maxRevision;
  }

  /** Writes every label; returns the store version afterwards. */
  async putMany(labels: ReadonlyMap<string, number>): Promise<number> {
    for (const [key, label] of labels) await this.put(key, label);
    return this.maxRevision;
  }

  get version(): number {
    return this.maxRevision;
  }
  get size(): number {
    return this.cache.size;
  }

  /** All cached labels. */
  entries(): IterableIterator<[string, number]> {
    return this.cache.entries();
  }

  /** Writes every label to `path` (atomically: temp file, then rename). */
  async snapshot(path: string): Promise<LabelSnapshot> {
    const snap: LabelSnapshot = {
      format: "sluice-oni-labels/1",
      bucket: this.bucket,
      version: this.maxRevision,
      labels: Object.fromEntries(this.cache),
    };
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(snap));
    await rename(tmp, path);
    return snap;
  }

  /** Loads a snapshot written by `snapshot` into this bucket; returns the labels restored. */
  async restore(path: string): Promise<number> {
    const snap = await readSnapshot(path);
    const labels = new Map(Object.entries(snap.labels));
    await this.putMany(labels);
    return labels.size;
  }

  private remember(key: string, label: number, revision: number): void {
    this.cache.set(key, label);
    if (revision > this.maxRevision) this.maxRevision = revision;
  }
}

/** ONI's retrieval ("hashing") intrinsic reward: r_int(m) = label_store.get(m, 0) (arXiv 2410.23022). */
export function retrievalReward(store: Pick<KvLabelStore, "get">, key: string): number {
  return store.get(key, 0); // r_int(m) = label_store.get(m, 0)
}

export async function readSnapshot(path: string): Promise<LabelSnapshot> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new ValidationError(`ONI label snapshot ${path} cannot be read as JSON`, { cause, context: { path } });
  }
  const s = raw as Partial<LabelSnapshot> | null;
  if (s?.format !== "sluice-oni-labels/1" || typeof s.labels !== "object" || s.labels === null) {
    throw new ValidationError(`ONI label snapshot ${path}: not a sluice-oni-labels/1 snapshot`, { context: { path } });
  }
  for (const [k, v] of Object.entries(s.labels)) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ValidationError(`ONI label snapshot ${path}: label of ${k} is not a number`, {
        context: { path, key: k },
      });
    }
  }
  return s as LabelSnapshot;
}

function parseLabel(key: string, text: string): number {
  let label: unknown;
  try {
    label = (JSON.parse(text) as { label?: unknown } | null)?.label;
  } catch (cause) {
    throw new ValidationError(`ONI label store: value of ${key} is not JSON: ${text.slice(0, 100)}`, { cause });
  }
  if (typeof label !== "number" || !Number.isFinite(label)) {
    throw new ValidationError(`ONI label store: value of ${key} has no numeric label: ${text.slice(0, 100)}`);
  }
  return label;
}
