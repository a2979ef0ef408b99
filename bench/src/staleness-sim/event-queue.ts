/**
 * A discrete-event queue with a fake clock: events pop in order of time, and events at the
 * same time in the order they were scheduled. `now` is the time of the last popped event
 * (seconds of simulated time); nothing here reads the wall clock.
 */
export class EventQueue<T> {
  private readonly heap: { at: number; seq: number; payload: T }[] = [];
  private seq = 0;
  private clock = 0;

  /** Simulated time: the time of the event popped last (0 before the first). */
  get now(): number {
    return this.clock;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `payload` at absolute time `at`; never earlier than now. */
  schedule(at: number, payload: T): void {
    if (!Number.isFinite(at)) throw new RangeError(`event time must be finite, got ${at}`);
    if (at < this.clock) throw new RangeError(`cannot schedule at ${at}, before now (${this.clock})`);
    this.heap.push({ at, seq: this.seq++, payload });
    this.siftUp(this.heap.length - 1);
  }

  /** Schedules `payload` `delay` seconds from now. */
  after(delay: number, payload: T): void {
    this.schedule(this.clock + Math.max(0, delay), payload);
  }

  /** The next event (advancing the clock to it), or undefined when the queue is empty. */
  pop(): { at: number; payload: T } | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    this.clock = top.at;
    return { at: top.at, payload: top.payload };
  }

  private before(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(l, m)) m = l;
      if (r < n && this.before(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
