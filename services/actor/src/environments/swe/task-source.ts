import { isAbsolute, resolve } from "node:path";
import { loadTaskSet, type Logger, type SweTask } from "@sluice/common";
import type { Task, TaskSource } from "../../environment.js";
import { EnvironmentConfigError } from "../../errors.js";
import { mixSeed, mulberry32 } from "@sluice/common";
import { SWE_ENVIRONMENT, type SweConfig } from "./config.js";

/** Task paths in a spec are relative to the spec file; `sluice up` exports its directory. */
export function resolveTaskPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  if (isAbsolute(path)) return path;
  return resolve(env["SLUICE_SPEC_DIR"] ?? process.cwd(), path);
}

/**
 * Loads the configured task set. Malformed tasks (and tasks without an `env` block, which
 * the sandbox cannot build) are logged and skipped; an empty result is a config error.
 */
export function loadSweTasks(config: SweConfig, logger?: Logger, env: NodeJS.ProcessEnv = process.env): SweTask[] {
  const paths = config.tasks.map((p) => resolveTaskPath(p, env));
  const { tasks, errors } = loadTaskSet(paths);
  for (const err of errors) logger?.warn("skipping malformed task", { err: err.message });
  let usable = tasks.map((t) => t.task);
  const noEnv = usable.filter((t) => t.env === undefined);
  for (const t of noEnv) {
    logger?.warn("skipping task without an env block", { instanceId: t.instance_id });
  }
  usable = usable.filter((t) => t.env !== undefined);
  if (config.instances) {
    const known = new Set(usable.map((t) => t.instance_id));
    const unknown = config.instances.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new EnvironmentConfigError(SWE_ENVIRONMENT, [
        `environment.config.instances: not among the loadable tasks of ${paths.join(", ")}: ${unknown.join(", ")}`,
      ]);
    }
    const wanted = new Set(config.instances);
    usable = usable.filter((t) => wanted.has(t.instance_id));
  }
  if (usable.length === 0) {
    const why = errors.length > 0 ? ` (${errors.length} malformed; first: ${errors[0]?.message ?? ""})` : "";
    throw new EnvironmentConfigError(SWE_ENVIRONMENT, [
      `environment.config.tasks: no usable tasks in ${paths.join(", ")}${why}`,
    ]);
  }
  return usable;
}

/**
 * The run's task sequence: epoch e visits every task once in an order shuffled by
 * (seed, e), so a run covers the set evenly and is a pure function of the seed.
 */
export class SweTaskSource implements TaskSource {
  private cursor = 0;
  private readonly orders = new Map<number, number[]>();

  constructor(
    private readonly tasks: readonly SweTask[],
    private readonly seed: number,
  ) {}

  at(index: number): Task {
    const n = this.tasks.length;
    const epoch = Math.floor(index / n);
    const slot = this.order(epoch)[index % n] ?? 0;
    const task = this.tasks[slot] as SweTask;
    return { id: task.instance_id, payload: task };
  }

  next(): Task {
    return this.at(this.cursor++);
  }

  private order(epoch: number): number[] {
    let order = this.orders.get(epoch);
    if (order) return order;
    const rand = mulberry32(mixSeed(this.seed, epoch));
    order = Array.from({ length: this.tasks.length }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    // Only a few epochs are live at once; keep the cache from growing with the run.
    if (this.orders.size > 8) this.orders.clear();
    this.orders.set(epoch, order);
    return order;
  }
}
