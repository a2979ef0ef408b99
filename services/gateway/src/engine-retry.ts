import { RpcError, sleep, type Logger } from "@sluice/common";

/** gRPC UNAVAILABLE: the engine is not reachable (restarting, not up yet, connection reset). */
const UNAVAILABLE = 14;
const FIRST_WAIT_MS = 200;
const MAX_WAIT_MS = 2_000;

export interface EngineRetryOptions {
  /** How long one call keeps retrying before its UNAVAILABLE error goes to the caller. */
  retryMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Wraps an engine client so that a call failing with UNAVAILABLE is tried again until
 * `retryMs` has passed. A restarting engine (a crash, kill -9, `sluice up` restarting it)
 * is then a pause for the agents instead of a burst of failed episodes: without it every
 * request in the restart window fails at once, the failed groups are refunded to admission,
 * and actors burn through groups faster than the engine can come back. Only UNAVAILABLE is
 * retried: the gateway's engine calls (render, sample, detokenize, model info) have no
 * effect on the engine's state, so a call cut off by the engine's death can run again.
 * Every method of `engine` is wrapped, so the wrapper follows EngineApi as it grows.
 */
export function retryWhileUnavailable<T extends object>(engine: T, o: EngineRetryOptions): T {
  const now = o.now ?? Date.now;
  const retry = async (first: Promise<unknown>, again: () => Promise<unknown>, method: string): Promise<unknown> => {
    const deadline = now() + o.retryMs;
    let call = first;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call;
      } catch (err) {
        const wait = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** attempt);
        if (!(err instanceof RpcError && err.code === UNAVAILABLE) || now() + wait > deadline) throw err;
        if (attempt === 0) o.logger.warn("engine unavailable; retrying", { method, err: err.message });
        await sleep(wait);
        call = again();
      }
    }
  };
  return new Proxy(engine, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        const first = method.apply(target, args);
        // Synchronous members (close) stay as they are.
        if (!(first instanceof Promise)) return first;
        return retry(first as Promise<unknown>, () => method.apply(target, args) as Promise<unknown>, String(prop));
      };
    },
  });
}
