import { errorMessage, type Logger } from "@sluice/common";
import { KubeApiError } from "../errors.js";
import {
  keyOf,
  type KubeApi,
  type KubeObject,
  type ListOptions,
  type ResourceType,
  type WatchHandle,
} from "../kube/types.js";
import type { Clock, Timer } from "./clock.js";

export type InformerEventType = "add" | "update" | "delete";

export interface InformerOptions extends ListOptions {
  clock: Clock;
  logger: Logger;
  /** No watch event (bookmarks included) for this long: the watch is presumed dead and we re-list. */
  stallMs: number;
  onEvent: (type: InformerEventType, obj: KubeObject) => void;
  /** Called on every re-list with its reason (metrics). */
  onRelist?: (reason: RelistReason) => void;
  /** Delays between failed list attempts (doubling up to maxRetryMs). */
  retryMs?: number;
  maxRetryMs?: number;
}

export type RelistReason = "start" | "stall" | "expired" | "error";

/**
 * List-then-watch cache of one resource type. The watch resumes from the last resourceVersion
 * when the server ends it normally; a 410 (history compacted), an error, or a watch that stays
 * silent longer than `stallMs` (a half-open connection never errors by itself) leads to a full
 * re-list whose differences are delivered as events, so no change is lost.
 *
 * Written on the KubeApi seam rather than client-node's ListWatch so that the watchdog can end a
 * stalled watch and so the same code runs against the in-memory API server in unit tests.
 */
export class Informer {
  private readonly cache = new Map<string, KubeObject>();
  private resourceVersion = "";
  private watch: WatchHandle | undefined;
  private watchdog: Timer | undefined;
  private retry: Timer | undefined;
  private stopped = true;
  private synced = false;
  private failures = 0;
  /** When the last watch event (or list) arrived: the last-event metric and the watchdog's input. */
  lastEventAtMs = 0;

  constructor(
    private readonly api: KubeApi,
    readonly type: ResourceType,
    private readonly o: InformerOptions,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.relist("start");
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.watchdog?.cancel();
    this.retry?.cancel();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(keyOf(namespace, name));
  }

  list(): KubeObject[] {
    return [...this.cache.values()];
  }

  private async relist(reason: RelistReason): Promise<void> {
    if (this.stopped) return;
    this.o.onRelist?.(reason);
    let listed;
    try {
      listed = await this.api.list(this.type, this.o);
    } catch (err) {
      this.scheduleRetry(err);
      return;
    }
    if (this.stopped) return;
    this.failures = 0;
    this.touch();
    const seen = new Set<string>();
    for (const obj of listed.items) {
      const key = keyOf(obj.metadata.namespace, obj.metadata.name);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.o.onEvent("add", obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.o.onEvent("update", obj);
    }
    for (const [key, obj] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.o.onEvent("delete", obj);
    }
    this.resourceVersion = listed.resourceVersion;
    this.synced = true;
    this.startWatch();
  }

  private startWatch(): void {
    if (this.stopped) return;
    const handle = this.api.watch(this.type, { ...this.o, resourceVersion: this.resourceVersion }, (type, obj) => {
      if (handle !== this.watch) return;
      this.touch();
      if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
      if (type === "BOOKMARK") return;
      const key = keyOf(obj.metadata.namespace, obj.metadata.name);
      if (type === "DELETED") {
        this.cache.delete(key);
        this.o.onEvent("delete", obj);
        return;
      }
      const had = this.cache.has(key);
      this.cache.set(key, obj);
      this.o.onEvent(had ? "update" : "add", obj);
    });
    this.watch = handle;
    this.armWatchdog();
    handle.done.then(
      () => {
        // A normal end (server timeout): resume from where we were, without a re-list.
        if (handle === this.watch && !this.stopped) this.startWatch();
      },
      (err: unknown) => {
        if (handle !== this.watch || this.stopped) return;
        if (err instanceof KubeApiError && err.status === 410) void this.relist("expired");
        else this.scheduleRetry(err);
      },
    );
  }

  private touch(): void {
    this.lastEventAtMs = this.o.clock.now();
    this.armWatchdog();
  }

  private armWatchdog(): void {
    this.watchdog?.cancel();
    if (this.stopped) return;
    this.watchdog = this.o.clock.setTimer(() => {
      if (this.stopped) return;
      this.o.logger.warn("watch silent; re-listing", { kind: this.type.kind, stallMs: this.o.stallMs });
      const stale = this.watch;
      this.watch = undefined;
      stale?.stop();
      void this.relist("stall");
    }, this.o.stallMs);
  }

  private scheduleRetry(err: unknown): void {
    if (this.stopped) return;
    const base = this.o.retryMs ?? 1_000;
    const delay = Math.min(this.o.maxRetryMs ?? 30_000, base * 2 ** this.failures);
    this.failures += 1;
    this.o.logger.warn("list/watch failed; retrying", { kind: this.type.kind, delayMs: delay, err: errorMessage(err) });
    this.watch = undefined;
    this.watchdog?.cancel();
    this.retry?.cancel();
    this.retry = this.o.clock.setTimer(() => void this.relist("error"), delay);
  }
}
