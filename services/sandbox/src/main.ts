import { isAbsolute, join, resolve } from "node:path";
import { REPO_ROOT, runService } from "@sluice/common";
import type { SandboxBackend } from "./backend.js";
import { BubblewrapBackend } from "./bubblewrap-backend.js";
import { defaultCacheDir } from "./environments/cache-dir.js";
import { kubernetesBackendFromEnv } from "./kubernetes/from-env.js";
import { sandboxRegistration } from "./sandbox-service.js";
import type { SwerexServer } from "./swerex/index.js";
import { startSwerexWiring, SWEREX_KEY_FILE } from "./swerex-wiring.js";
import { sandboxDefaultsFromSpec } from "./spec-defaults.js";

/** Spec paths are relative to the spec file (`sluice up` exports its directory). */
function specPath(path: string): string {
  if (isAbsolute(path)) return path;
  return resolve(process.env["SLUICE_SPEC_DIR"] ?? process.cwd(), path);
}

// Process entry: node services/sandbox/dist/main.js --runtime <run>/runtime.json
await runService("sandbox", async (ctx) => {
  const s = ctx.runtime.spec.sandbox;
  const backend: SandboxBackend =
    s.backend === "kubernetes"
      ? kubernetesBackendFromEnv(ctx.runtime.experiment, ctx.logger, ctx.registry)
      : await BubblewrapBackend.create({
          baseDir: join(ctx.runtime.runDir, "sandboxes"),
          maxSandboxes: s.maxSandboxes,
          defaults: sandboxDefaultsFromSpec(s),
          logger: ctx.logger,
        });
  const swe = {
    cacheDir: s.cacheDir ? specPath(s.cacheDir) : defaultCacheDir(),
    tasksDir: s.tasksDir ? specPath(s.tasksDir) : join(REPO_ROOT, "tasks"),
    toolTimeoutMs: s.toolTimeoutMs,
    maxObservationBytes: s.maxObservationBytes,
    maxPatchBytes: s.maxPatchBytes,
  };
  let swerex: SwerexServer | undefined;
  if (s.swerex.enabled) {
    const endpoint = ctx.runtime.services.sandbox;
    swerex = await startSwerexWiring({
      backend,
      logger: ctx.logger,
      registry: ctx.registry,
      host: endpoint.host,
      port: endpoint.httpPort ?? 0,
      apiKeyEnv: s.swerex.apiKeyEnv,
      keyFile: SWEREX_KEY_FILE(ctx.runtime.runDir),
      cacheDir: swe.cacheDir,
      tasksDir: swe.tasksDir,
    });
  }
  ctx.logger.info("sandbox service ready", { enforced: backend.capabilities(), cacheDir: swe.cacheDir });
  return {
    grpcServices: [
      sandboxRegistration({
        backend,
        registry: ctx.registry,
        logger: ctx.logger,
        swe,
        onDestroyed: (id) => swerex?.forgetSandbox(id),
      }),
    ],
    stop: async () => {
      await swerex?.close();
      await backend.close();
    },
  };
});
