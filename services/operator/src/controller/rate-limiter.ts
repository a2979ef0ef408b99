import type { Clock } from "./clock.js";

export interface RateLimiterOptions {
  /** First retry delay of a failing key; doubled per consecutive failure. */
  baseDelayMs: number;
  /** Cap of the per-key delay. */
  maxDelayMs: number;
  /** Overall retries per second across keys (a token bucket), so a broken cluster is not hammered. */
  qps: number;
  burst: number;
}

export const DEFAULT_RATE_LIMITS: RateLimiterOptions = { baseDelayMs: 100, maxDelayMs: 300_000, qps: 10, burst: 100 };

/**
 * client-go's default controller rate limiter: the larger of a per-key exponential backoff and an
 * overall token bucket.
 */
export class RateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly o: RateLimiterOptions = DEFAULT_RATE_LIMITS,
  ) {
    this.tokens = o.burst;
    this.lastRefillMs = clock.now();
  }

  /** The delay before `key` may be retried, counting this as one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const backoff = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(n, 40));
    return Math.max(backoff, this.reserveToken());
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Takes a token (possibly one not yet refilled) and says how long until it exists. */
  private reserveToken(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.o.burst, this.tokens + ((now - this.lastRefillMs) / 1000) * this.o.qps);
    this.lastRefillMs = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.o.qps) * 1000);
  }
}
