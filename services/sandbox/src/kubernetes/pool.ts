import { randomBytes } from "node:crypto";
import { DeadlineError, errorMessage, sleep, type Logger } from "@sluice/common";
import { SandboxCapacityError } from "../errors.js";
import type { ExecClient } from "./exec-client.js";
import type { PodApi } from "./pod-api.js";

export interface PooledPod {
  name: string;
  token: string;
  client: ExecClient;
  uses: number;
}

export interface SandboxPoolOptions {
  pods: PodApi;
  /** The pod manifest for a new sandbox pod. */
  podFor: (name: string, token: string) => Record<string, unknown>;
  /** A client for a pod's exec server once it has an IP. */
  clientFor: (name: string, podIP: string, token: string) => ExecClient;
  namePrefix: string;
  /** Ready pods kept idle for the next episodes. */
  warmPods: number;
  /** Pods at once (idle + in use + starting). */
  maxPods: number;
  /** A pod not ready (and its exec server answering) within this long is deleted. */
  readyTimeoutMs: number;
  pollMs: number;
  /** Creations per second at most: a burst of episodes must not flood the API server and the scheduler. */
  createPerSecond: number;
  /** A pod is reset and reused this many times, then replaced (bounds what one pod accumulates). */
  maxUses: number;
  logger: Logger;
}

/**
 * A warm pool of sandbox pods: an episode claims a ready pod (or waits for a new one when the
 * pool is empty and below maxPods), and gives it back at the end; the pod is reset through its
 * exec server (commands killed, workspace and /tmp emptied) and goes back to the pool, or is
 * deleted when the reset fails or it has been used maxUses times. Images are pulled once per
 * pod, not per episode.
 */
export class SandboxPool {
  private readonly idle: PooledPod[] = [];
  private readonly busy = new Set<PooledPod>();
  private starting = 0;
  private nextCreateAtMs = 0;
  private closed = false;
  private refilling: Promise<void> | undefined;

  constructor(private readonly o: SandboxPoolOptions) {}

  counts(): { idle: number; busy: number; starting: number } {
    return { idle: this.idle.length, busy: this.busy.size, starting: this.starting };
  }

  async claim(): Promise<PooledPod> {
    let pod = this.idle.shift();
    if (!pod) {
      if (this.total() >= this.o.maxPods) throw new SandboxCapacityError(this.o.maxPods);
      pod = await this.createPod();
    }
    this.busy.add(pod);
    this.refill();
    return pod;
  }

  async release(pod: PooledPod): Promise<void> {
    this.busy.delete(pod);
    pod.uses += 1;
    if (this.closed || pod.uses >= this.o.maxUses) {
      await this.remove(pod);
    } else {
      try {
        await pod.client.reset();
        this.idle.push(pod);
      } catch (err) {
        this.o.logger.warn("sandbox pod reset failed; replacing it", { pod: pod.name, err: errorMessage(err) });
        await this.remove(pod);
      }
    }
    this.refill();
  }

  /** Starts pods in the background until `warmPods` are idle or starting (never above maxPods). */
  refill(): void {
    if (this.closed || this.refilling) return;
    this.refilling = (async () => {
      while (!this.closed && this.idle.length + this.starting < this.o.warmPods && this.total() < this.o.maxPods) {
        try {
          const pod = await this.createPod();
          if (this.closed) await this.remove(pod);
          else this.idle.push(pod);
        } catch (err) {
          this.o.logger.warn("warm sandbox pod failed to start", { err: errorMessage(err) });
          await sleep(this.o.pollMs * 10);
        }
      }
    })().finally(() => (this.refilling = undefined));
  }

  /** Waits until the warm target is met (tests, service start), within `timeoutMs`. */
  async warmed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.idle.length < Math.min(this.o.warmPods, this.o.maxPods - this.busy.size)) {
      if (Date.now() > deadline) throw new DeadlineError("warm sandbox pool", timeoutMs);
      await sleep(this.o.pollMs);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.refilling;
    const all = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.all(all.map((p) => this.remove(p)));
  }

  private total(): number {
    return this.idle.length + this.busy.size + this.starting;
  }

  private async createPod(): Promise<PooledPod> {
    this.starting += 1;
    const name = `${this.o.namePrefix}-${randomBytes(4).toString("hex")}`;
    try {
      const wait = this.nextCreateAtMs - Date.now();
      this.nextCreateAtMs = Math.max(Date.now(), this.nextCreateAtMs) + 1000 / this.o.createPerSecond;
      if (wait > 0) await sleep(wait);
      const token = randomBytes(24).toString("hex");
      await this.o.pods.create(this.o.podFor(name, token));
      try {
        const client = await this.waitReady(name, token);
        return { name, token, client, uses: 0 };
      } catch (err) {
        await this.o.pods.delete(name).catch(() => undefined);
        throw err;
      }
    } finally {
      this.starting -= 1;
    }
  }

  private async waitReady(name: string, token: string): Promise<ExecClient> {
    const deadline = Date.now() + this.o.readyTimeoutMs;
    for (;;) {
      const state = await this.o.pods.get(name);
      if (state?.phase === "Failed" || state?.phase === "Succeeded") {
        throw new DeadlineError(
          `sandbox pod ${name} ended (${state.phase}) before it was ready`,
          this.o.readyTimeoutMs,
        );
      }
      if (state?.ready && state.podIP) {
        const client = this.o.clientFor(name, state.podIP, token);
        if (await client.healthy()) return client;
      }
      if (Date.now() > deadline) throw new DeadlineError(`sandbox pod ${name} ready`, this.o.readyTimeoutMs);
      await sleep(this.o.pollMs);
    }
  }

  private async remove(pod: PooledPod): Promise<void> {
    try {
      await this.o.pods.delete(pod.name);
    } catch (err) {
      this.o.logger.warn("sandbox pod delete failed", { pod: pod.name, err: errorMessage(err) });
    }
  }
}
