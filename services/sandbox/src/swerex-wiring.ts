import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError, parseTaskText, type Logger } from "@sluice/common";
import type { Registry } from "prom-client";
import type { SandboxBackend } from "./backend.js";
import { createTaskSandbox } from "./environments/task-sandbox.js";
import { startSwerexServer, type SwerexServer } from "./swerex/index.js";

export interface SwerexWiringOptions {
  backend: SandboxBackend;
  logger: Logger;
  registry: Registry;
  host: string;
  port: number;
  /** Env var holding the admin key; without it a random key is written to `keyFile`. */
  apiKeyEnv: string;
  keyFile: string;
  cacheDir: string;
  tasksDir: string;
}

/**
 * Starts the SWE-ReX-compatible HTTP API on the service's backend. `POST /sluice/sandboxes`
 * with `{"task_json": "..."}` opens a task sandbox (the repository at its base state), with
 * `{}` an empty one; the reply's api_key is what a SWE-ReX RemoteRuntime authenticates with.
 */
export async function startSwerexWiring(options: SwerexWiringOptions): Promise<SwerexServer> {
  let adminKey = process.env[options.apiKeyEnv] ?? "";
  if (!adminKey) {
    adminKey = randomBytes(24).toString("hex");
    await writeFile(options.keyFile, adminKey + "\n", { mode: 0o600 });
    options.logger.info("no SWE-ReX admin key in the environment; generated one", {
      env: options.apiKeyEnv,
      keyFile: options.keyFile,
    });
  }
  const { backend, logger } = options;
  const server = await startSwerexServer({
    backend,
    adminKey,
    host: options.host,
    port: options.port,
    logger,
    registry: options.registry,
    createSandbox: async (req) => {
      const taskJson = req["task_json"];
      if (taskJson === undefined) {
        const info = await backend.create({ workspaceSource: "", episodeId: "swerex", env: {} });
        return { sandboxId: info.sandboxId };
      }
      if (typeof taskJson !== "string") throw new ValidationError("task_json must be a string holding one task");
      const { tasks, errors } = parseTaskText(taskJson, "task_json");
      if (errors[0]) throw errors[0];
      const task = tasks[0]?.task;
      if (!task || tasks.length !== 1) throw new ValidationError("task_json must hold exactly one task");
      const sb = await createTaskSandbox(backend, task, {
        cacheDir: options.cacheDir,
        taskDir: options.tasksDir,
        logger,
        episodeId: `swerex-${task.instance_id}`,
      });
      return { sandboxId: sb.sandboxId };
    },
    destroySandbox: (id) => backend.destroy(id),
  });
  logger.info("SWE-ReX API listening", { url: server.url });
  return server;
}

export const SWEREX_KEY_FILE = (runDir: string): string => join(runDir, "swerex-admin.key");
