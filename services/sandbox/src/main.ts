import { join } from "node:path";
import { runService } from "@sluice/common";
import { BubblewrapBackend } from "./bubblewrap-backend.js";
import { sandboxRegistration } from "./sandbox-service.js";

// Process entry: node services/sandbox/dist/main.js --runtime <run>/runtime.json
await runService("sandbox", async (ctx) => {
  const s = ctx.runtime.spec.sandbox;
  const backend = await BubblewrapBackend.create({
    baseDir: join(ctx.runtime.runDir, "sandboxes"),
    maxSandboxes: s.maxSandboxes,
    defaults: {
      limits: {
        memoryBytes: s.memoryBytes,
        maxProcesses: s.maxProcesses,
        maxFileBytes: s.maxFileBytes,
        maxOpenFiles: s.maxOpenFiles,
        cpuSeconds: s.cpuSeconds,
      },
      commandTimeoutMs: s.commandTimeoutMs,
      maxOutputBytes: s.maxOutputBytes,
    },
    logger: ctx.logger,
  });
  return {
    grpcServices: [sandboxRegistration({ backend, registry: ctx.registry, logger: ctx.logger })],
    stop: () => backend.close(),
  };
});
