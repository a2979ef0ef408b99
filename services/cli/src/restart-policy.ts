/** The spec's `restart` block (services/common/src/spec/schema.ts). */
export interface RestartConfig {
  maxRestarts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export type RestartDecision =
  | { restart: true; /** 1 for the component's first restart. */ attempt: number; delayMs: number }
  | { restart: false; reason: string };

/**
 * Decides whether a component that died is started again, and after how long. Each
 * component has its own budget of `maxRestarts`; the wait doubles with each restart of the
 * same component (capped), so a component that crashes on start does not spin the machine.
 * Components named in `neverRestart` (nats-server: it holds every stream, and everything
 * else would have to reconnect to a store that may be torn) always end the run.
 */
export class RestartPolicy {
  private readonly restarts = new Map<string, number>();

  constructor(
    private readonly config: RestartConfig,
    private readonly neverRestart: ReadonlySet<string> = new Set(),
  ) {}

  /** False when every death ends the run (maxRestarts 0, the default). */
  get enabled(): boolean {
    return this.config.maxRestarts > 0;
  }

  /** Called once per unexpected death; counts the restart when it says yes. */
  decide(component: string): RestartDecision {
    if (this.neverRestart.has(component)) return { restart: false, reason: `${component} is never restarted` };
    const done = this.restarts.get(component) ?? 0;
    if (done >= this.config.maxRestarts) {
      return {
        restart: false,
        reason:
          this.config.maxRestarts === 0
            ? "restarts are off (spec.restart.maxRestarts is 0)"
            : `${component} used its ${this.config.maxRestarts} restarts (spec.restart.maxRestarts)`,
      };
    }
    const attempt = done + 1;
    this.restarts.set(component, attempt);
    return { restart: true, attempt, delayMs: backoffMs(this.config, attempt) };
  }

  /** Restarts of one component so far. */
  count(component: string): number {
    return this.restarts.get(component) ?? 0;
  }

  /** Restarts of every component so far. */
  total(): number {
    let n = 0;
    for (const c of this.restarts.values()) n += c;
    return n;
  }
}

/** backoffMs · 2^(attempt−1), capped at maxBackoffMs. */
export function backoffMs(config: Pick<RestartConfig, "backoffMs" | "maxBackoffMs">, attempt: number): number {
  const exp = Math.min(Math.max(0, attempt - 1), 30);
  return Math.min(config.maxBackoffMs, config.backoffMs * 2 ** exp);
}
