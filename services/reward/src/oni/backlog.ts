/** One unlabelled item: its key, the text the judge sees and when it was first enqueued. */
export interface BacklogItem {
  key: string;
  text: string;
  enqueuedAtMs: number;
}

export type EnqueueResult = "queued" | "pending" | "labelled";

export interface BacklogOptions {
  cap: number;
  order: "lifo" | "fifo";
  /** Whether a key already has a label (the label store's cache). */
  isLabelled: (key: string) => boolean;
  now?: () => number;
}

interface Entry {
  item: BacklogItem;
  seq: number;
}

/**
 * The annotator's backlog of unlabelled keys. A key is enqueued once while it is
 * pending (queued or in flight) or already labelled. Over `cap`, the oldest queued
 * item is dropped (counted in `dropped`) and may be enqueued again later. `take`
 * hands out the newest items (LIFO, ONI) or the oldest (FIFO); `requeue` puts a
 * failed batch back at its original positions; `complete` ends the pending state.
 */
export class AnnotationBacklog {
  private readonly queue: Entry[] = []; // sorted by seq, oldest first
  private readonly inFlight = new Map<string, Entry>();
  private nextSeq = 0;
  private droppedCount = 0;
  private readonly now: () => number;

  constructor(private readonly options: BacklogOptions) {
    if (!(options.cap >= 1)) throw new RangeError(`backlog cap must be >= 1, got ${options.cap}`);
    this.now = options.now ?? Date.now;
  }

  private readonly queuedKeys = new Set<string>();

  enqueue(key: string, text: string): EnqueueResult {
    if (this.queuedKeys.has(key) || this.inFlight.has(key)) return "pending";
    if (this.options.isLabelled(key)) return "labelled";
    this.queue.push({ item: { key, text, enqueuedAtMs: this.now() }, seq: this.nextSeq++ });
    this.queuedKeys.add(key);
    this.enforceCap();
    return "queued";
  }

  /** Moves up to `n` items to in flight: newest first (LIFO) or oldest first (FIFO). */
  take(n: number): BacklogItem[] {
    const k = Math.min(n, this.queue.length);
    const taken =
      this.options.order === "lifo" ? this.queue.splice(this.queue.length - k, k).reverse() : this.queue.splice(0, k);
    for (const e of taken) {
      this.queuedKeys.delete(e.item.key);
      this.inFlight.set(e.item.key, e);
    }
    return taken.map((e) => e.item);
  }

  /** Returns in-flight keys (a failed batch) to their original queue positions. */
  requeue(keys: Iterable<string>): void {
    for (const key of keys) {
      const e = this.inFlight.get(key);
      if (!e) continue;
      this.inFlight.delete(key);
      this.queue.splice(this.insertionIndex(e.seq), 0, e);
      this.queuedKeys.add(key);
    }
    this.enforceCap();
  }

  /** Ends the pending state of in-flight keys (they are labelled now). */
  complete(keys: Iterable<string>): void {
    for (const key of keys) this.inFlight.delete(key);
  }

  /** Items waiting (not in flight). */
  get depth(): number {
    return this.queue.length;
  }
  get inFlightCount(): number {
    return this.inFlight.size;
  }
  /** Items dropped by the cap since construction. */
  get dropped(): number {
    return this.droppedCount;
  }

  private enforceCap(): void {
    while (this.queue.length > this.options.cap) {
      const oldest = this.queue.shift();
      if (oldest) this.queuedKeys.delete(oldest.item.key);
      this.droppedCount++;
    }
  }

  private insertionIndex(seq: number): number {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.queue[mid]?.seq ?? 0) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
