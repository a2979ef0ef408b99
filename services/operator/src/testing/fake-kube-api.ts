import { randomUUID } from "node:crypto";
import { KubeApiError } from "../errors.js";
import { sameType, TYPES } from "../kube/resources.js";
import type {
  KubeApi,
  KubeObject,
  ListOptions,
  ListResult,
  ObjectRef,
  ResourceType,
  WatchEventType,
  WatchHandle,
} from "../kube/types.js";

interface Watcher {
  type: ResourceType;
  namespace?: string;
  selector: Record<string, string>;
  onEvent: (type: WatchEventType, obj: KubeObject) => void;
  resolve: () => void;
  stalled: boolean;
}

/**
 * An in-memory API server with the semantics the operator relies on: resourceVersion and
 * optimistic concurrency, generation bumps on spec changes, server-side apply that keeps the
 * status of a child (and only writes status through the status subresource), finalizers and
 * deletionTimestamp, garbage collection of owned objects, label-selected list and watch.
 * The real-API-server tests run the same assertions so that this fake stays honest.
 */
export class FakeKubeApi implements KubeApi {
  private readonly objects = new Map<string, KubeObject>();
  private readonly watchers = new Set<Watcher>();
  private rv = 1;
  private readonly failures: { verb: string; kind: string; status: number }[] = [];
  /** Every write in order ("apply Deployment ns/name"), for assertions on what the operator did. */
  readonly writes: string[] = [];
  private readonly served = new Set<string>();
  now: () => Date = () => new Date();

  constructor(options: { serves?: ResourceType[] } = {}) {
    for (const t of options.serves ?? []) this.served.add(`${t.apiVersion}/${t.kind}`);
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.maybeFail("get", ref.kind);
    const o = this.objects.get(this.key(ref, ref.namespace, ref.name));
    return o ? clone(o) : undefined;
  }

  async list(type: ResourceType, options: ListOptions = {}): Promise<ListResult> {
    this.maybeFail("list", type.kind);
    const selector = parseSelector(options.labelSelector);
    const items = [...this.objects.values()].filter((o) => matches(o, type, options.namespace, selector)).map(clone);
    return { items, resourceVersion: String(this.rv) };
  }

  watch(
    type: ResourceType,
    options: ListOptions & { resourceVersion: string },
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
  ): WatchHandle {
    let watcher!: Watcher;
    const done = new Promise<void>((resolve) => {
      watcher = {
        type,
        namespace: options.namespace,
        selector: parseSelector(options.labelSelector),
        onEvent,
        resolve,
        stalled: false,
      };
    });
    this.watchers.add(watcher);
    return {
      stop: () => {
        this.watchers.delete(watcher);
        watcher.resolve();
      },
      done,
    };
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    this.maybeFail("create", obj.kind);
    const key = this.key(obj, obj.metadata.namespace, obj.metadata.name);
    if (this.objects.has(key)) throw new KubeApiError("POST", key, 409, "AlreadyExists", `${key} already exists`);
    const stored = clone(obj);
    stored.metadata = {
      ...stored.metadata,
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: this.now().toISOString(),
      resourceVersion: this.nextRv(),
    };
    this.objects.set(key, stored);
    this.record("create", stored);
    this.notify("ADDED", stored);
    return clone(stored);
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    this.maybeFail("replace", obj.kind);
    const key = this.key(obj, obj.metadata.namespace, obj.metadata.name);
    const existing = this.objects.get(key);
    if (!existing) throw new KubeApiError("PUT", key, 404, "NotFound", `${key} not found`);
    if (obj.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      throw new KubeApiError("PUT", key, 409, "Conflict", "the object has been modified");
    }
    const next = clone(obj);
    // The status subresource: a PUT of the main resource never changes status.
    if (existing.status !== undefined) next.status = clone(existing.status);
    else delete next.status;
    next.metadata = {
      ...next.metadata,
      uid: existing.metadata.uid,
      creationTimestamp: existing.metadata.creationTimestamp,
      deletionTimestamp: existing.metadata.deletionTimestamp,
      generation: (existing.metadata.generation ?? 1) + (specChanged(existing, next) ? 1 : 0),
    };
    this.store(key, next, "replace");
    return clone(this.objects.get(key) ?? next);
  }

  async apply(obj: KubeObject, options: { status?: boolean } = {}): Promise<KubeObject> {
    this.maybeFail(options.status ? "applyStatus" : "apply", obj.kind);
    const key = this.key(obj, obj.metadata.namespace, obj.metadata.name);
    const existing = this.objects.get(key);
    if (options.status) {
      if (!existing) throw new KubeApiError("PATCH", key, 404, "NotFound", `${key} not found`);
      if (JSON.stringify(existing.status) === JSON.stringify(obj.status)) return clone(existing);
      const next = clone(existing);
      next.status = clone(obj.status);
      this.store(key, next, "applyStatus");
      return clone(next);
    }
    if (!existing) {
      const { status: _ignored, ...rest } = obj;
      return this.create(rest as KubeObject);
    }
    const next: KubeObject = { ...clone(existing), ...clone(withoutMetaAndStatus(obj)) };
    const m = obj.metadata;
    next.metadata = {
      ...existing.metadata,
      labels: { ...existing.metadata.labels, ...m.labels },
      annotations: { ...existing.metadata.annotations, ...m.annotations },
      ownerReferences: m.ownerReferences ?? existing.metadata.ownerReferences,
      finalizers: m.finalizers ?? existing.metadata.finalizers,
      generation: (existing.metadata.generation ?? 1) + (specChanged(existing, next) ? 1 : 0),
    };
    // An apply that changes nothing is not a write (as on a real API server): no new version, no event.
    if (
      JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: "" } }) ===
      JSON.stringify({ ...existing, metadata: { ...existing.metadata, resourceVersion: "" } })
    )
      return clone(existing);
    this.store(key, next, "apply");
    return clone(next);
  }

  async delete(ref: ObjectRef): Promise<void> {
    this.maybeFail("delete", ref.kind);
    const key = this.key(ref, ref.namespace, ref.name);
    const existing = this.objects.get(key);
    if (!existing) return;
    this.writes.push(`delete ${ref.kind} ${ref.namespace ?? ""}/${ref.name}`);
    if ((existing.metadata.finalizers ?? []).length > 0) {
      if (existing.metadata.deletionTimestamp) return;
      const next = clone(existing);
      next.metadata.deletionTimestamp = this.now().toISOString();
      this.store(key, next, undefined);
      return;
    }
    this.remove(key);
  }

  async serves(type: ResourceType): Promise<boolean> {
    const builtIn = ["v1", "apps/v1", "batch/v1", "coordination.k8s.io/v1", "networking.k8s.io/v1"];
    if (builtIn.includes(type.apiVersion) || sameType(type, TYPES.experiment)) return true;
    return this.served.has(`${type.apiVersion}/${type.kind}`);
  }

  // ---- test controls (the roles of kube-controller-manager and kwok) ----

  /** Sets an object's status as a controller would (e.g. readyReplicas of a Deployment). */
  setStatus(ref: ObjectRef, status: Record<string, unknown>): void {
    const key = this.key(ref, ref.namespace, ref.name);
    const existing = this.objects.get(key);
    if (!existing) throw new Error(`setStatus: ${key} not found`);
    const next = clone(existing);
    next.status = { ...(existing.status as Record<string, unknown> | undefined), ...status };
    this.store(key, next, undefined);
  }

  /** The next matching call fails with this HTTP status (once). */
  failNext(verb: string, kind: string, status: number): void {
    this.failures.push({ verb, kind, status });
  }

  /** Every open watch goes silent (stream open, no events): what the informer watchdog must detect. */
  stallWatches(): void {
    for (const w of this.watchers) w.stalled = true;
  }

  /** Closes every open watch from the server side, as an API server restart would. */
  closeWatches(): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.resolve();
    }
  }

  openWatches(): number {
    return this.watchers.size;
  }

  all(type: ResourceType, namespace?: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => matches(o, type, namespace, {})).map(clone);
  }

  private store(key: string, next: KubeObject, verb: string | undefined): void {
    next.metadata.resourceVersion = this.nextRv();
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.set(key, next);
      this.remove(key);
      return;
    }
    this.objects.set(key, next);
    if (verb) this.record(verb, next);
    this.notify("MODIFIED", next);
  }

  private remove(key: string): void {
    const gone = this.objects.get(key);
    if (!gone) return;
    this.objects.delete(key);
    this.notify("DELETED", gone);
    // Garbage collection (background propagation): dependents of a deleted owner go too.
    for (const [k, o] of [...this.objects]) {
      if ((o.metadata.ownerReferences ?? []).some((r) => r.uid === gone.metadata.uid)) {
        if ((o.metadata.finalizers ?? []).length > 0) {
          o.metadata.deletionTimestamp ??= this.now().toISOString();
          this.notify("MODIFIED", o);
        } else {
          this.remove(k);
        }
      }
    }
  }

  private notify(type: WatchEventType, obj: KubeObject): void {
    for (const w of this.watchers) {
      if (w.stalled || !matches(obj, w.type, w.namespace, w.selector)) continue;
      w.onEvent(type, clone(obj));
    }
  }

  private record(verb: string, obj: KubeObject): void {
    this.writes.push(`${verb} ${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}`);
  }

  private maybeFail(verb: string, kind: string): void {
    const i = this.failures.findIndex((f) => f.verb === verb && f.kind === kind);
    if (i < 0) return;
    const f = this.failures.splice(i, 1)[0]!;
    throw new KubeApiError(verb, kind, f.status, "Injected", "injected failure");
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${type.apiVersion}/${type.kind}/${namespace ?? ""}/${name}`;
  }

  private nextRv(): string {
    this.rv += 1;
    return String(this.rv);
  }
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

function withoutMetaAndStatus(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

function specChanged(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(withoutMetaAndStatus(a)) !== JSON.stringify(withoutMetaAndStatus(b));
}

function parseSelector(selector: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (selector ?? "").split(",")) {
    const [k, v] = part.split("=");
    if (k && v !== undefined) out[k.trim()] = v.trim();
  }
  return out;
}

function matches(
  o: KubeObject,
  type: ResourceType,
  namespace: string | undefined,
  sel: Record<string, string>,
): boolean {
  if (!sameType(o, type)) return false;
  if (namespace && o.metadata.namespace !== namespace) return false;
  return Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v);
}
