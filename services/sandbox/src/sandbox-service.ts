import { contracts, type GrpcServiceRegistration, type Logger } from "@sluice/common";
import type { Registry } from "prom-client";
import type { SandboxBackend } from "./backend.js";
import { unaryHandler } from "./grpc-handler.js";
import { GRPC_UNIMPLEMENTED, SandboxStatusError } from "./errors.js";
import { SandboxMetrics } from "./sandbox-metrics.js";
import { SweHandlers, type SweServiceOptions } from "./swe-handlers.js";

type Server = contracts.SandboxServiceServer;

export interface SandboxServiceOptions {
  backend: SandboxBackend;
  registry: Registry;
  logger: Logger;
  /** Enables the SWE RPCs (task sandboxes, tools, patches, verification). */
  swe?: SweServiceOptions;
  /** Called after DestroySandbox removed a sandbox (e.g. to revoke its SWE-ReX keys). */
  onDestroyed?: (sandboxId: string) => void;
}

/** The gRPC SandboxService over any backend; validation of paths and ids lives in the backend. */
export function createSandboxService(options: SandboxServiceOptions): Server {
  const { backend, logger } = options;
  const metrics = new SandboxMetrics(options.registry);
  const syncLive = (): void => metrics.setLive(backend.liveCount());
  syncLive();

  const swe = options.swe ? new SweHandlers(backend, options.swe, logger, options.registry) : undefined;
  const sweOnly = <Req, Res>(what: string, fn: (h: SweHandlers, req: Req) => Promise<Res>) =>
    unaryHandler(async (req: Req): Promise<Res> => {
      if (!swe)
        throw new SandboxStatusError(`${what}: this sandbox service runs without SWE support`, GRPC_UNIMPLEMENTED);
      return fn(swe, req);
    });
  return {
    createTaskSandbox: sweOnly("CreateTaskSandbox", async (h, req: contracts.CreateTaskSandboxRequest) => {
      const res = await h.createTaskSandbox(req);
      metrics.sandboxCreated();
      syncLive();
      logger.info("task sandbox created", { sandboxId: res.sandboxId, episodeId: req.episodeId });
      return res;
    }),
    runTool: sweOnly("RunTool", (h, req: contracts.RunToolRequest) => h.runTool(req)),
    extractPatch: sweOnly("ExtractPatch", (h, req: contracts.ExtractPatchRequest) => h.extractPatch(req)),
    verify: sweOnly("Verify", (h, req: contracts.VerifyRequest) => h.verify(req)),
    createSandbox: unaryHandler(
      async (req: contracts.CreateSandboxRequest): Promise<contracts.CreateSandboxResponse> => {
        const info = await backend.create({
          workspaceSource: req.workspaceSource,
          ...(req.limits ? { limits: req.limits } : {}),
          episodeId: req.episodeId,
          env: req.env,
        });
        metrics.sandboxCreated();
        syncLive();
        logger.info("sandbox created", { sandboxId: info.sandboxId, episodeId: req.episodeId });
        return { sandboxId: info.sandboxId, workspacePath: info.workspacePath, enforced: [...info.enforced] };
      },
    ),
    exec: unaryHandler(async (req: contracts.ExecRequest): Promise<contracts.ExecResponse> => {
      const res = await backend.exec(req.sandboxId, {
        argv: req.argv,
        timeoutMs: req.timeoutMs,
        stdin: req.stdin,
        maxOutputBytes: req.maxOutputBytes,
        workdir: req.workdir,
      });
      metrics.execFinished(res);
      return res;
    }),
    writeFile: unaryHandler(async (req: contracts.WriteFileRequest): Promise<contracts.WriteFileResponse> => {
      await backend.writeFile(req.sandboxId, req.path, req.content);
      return {};
    }),
    readFile: unaryHandler(async (req: contracts.ReadFileRequest): Promise<contracts.ReadFileResponse> => {
      return backend.readFile(req.sandboxId, req.path, req.maxBytes);
    }),
    destroySandbox: unaryHandler(
      async (req: contracts.DestroySandboxRequest): Promise<contracts.DestroySandboxResponse> => {
        await backend.destroy(req.sandboxId);
        swe?.forget(req.sandboxId);
        options.onDestroyed?.(req.sandboxId);
        metrics.sandboxDestroyed();
        syncLive();
        logger.info("sandbox destroyed", { sandboxId: req.sandboxId });
        return {};
      },
    ),
  };
}

/** Fully qualified gRPC service name (health status key). */
export const SANDBOX_SERVICE_NAME = "sluice.v1.SandboxService";

/** The service ready for common's startGrpcServer / runService. */
export function sandboxRegistration(options: SandboxServiceOptions): GrpcServiceRegistration {
  return {
    name: SANDBOX_SERVICE_NAME,
    definition: contracts.SandboxServiceService,
    implementation: createSandboxService(options),
  };
}
