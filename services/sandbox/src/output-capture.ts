/**
 * Bounded capture of a process's output stream. Keeps the first half of the budget and a
 * rolling window of the last half, because for commands like test runs both the start
 * (what ran) and the end (the verdict) matter; the middle is replaced by a marker.
 */
export class OutputCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** Tail chunks; trimmed from the front whenever they exceed 2x tailLimit (amortised). */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  /** `limit` is the number of output bytes kept (the marker comes on top). */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`output limit must be a non-negative integer: ${limit}`);
    this.headLimit = Math.ceil(limit / 2);
    this.tailLimit = limit - this.headLimit;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0 || this.tailLimit === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    if (this.tailBytes > 2 * this.tailLimit) this.compactTail();
  }

  /** Bytes seen so far, kept or not. */
  get totalBytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.limit;
  }

  /** The kept output: everything if it fit, else head + marker + tail. */
  result(): Buffer {
    const head = Buffer.concat(this.head);
    if (!this.truncated) return Buffer.concat([head, ...this.tail]);
    this.compactTail();
    const tail = Buffer.concat(this.tail);
    const omitted = this.total - head.length - tail.length;
    return Buffer.concat([head, Buffer.from(truncationMarker(omitted)), tail]);
  }

  private compactTail(): void {
    const all = Buffer.concat(this.tail);
    const keep = all.subarray(Math.max(0, all.length - this.tailLimit));
    this.tail = [keep];
    this.tailBytes = keep.length;
  }
}

/** The text placed where output was cut; callers and tests can look for it. */
export function truncationMarker(omittedBytes: number): string {
  return `\n...[sluice: ${omittedBytes} bytes of output omitted]...\n`;
}
