import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ValidationError, errorMessage, type Logger } from "@sluice/common";
import type { Registry } from "prom-client";
import type { SandboxBackend } from "../backend.js";
import { SandboxCapacityError, SandboxNotFoundError } from "../errors.js";
import { MAX_READ_BYTES } from "../limits.js";
import { ApiKeys, sameKey } from "./api-keys.js";
import { SwerexException, SwerexHttpError, exceptionBody } from "./errors.js";
import { readBody, sendJson, sendPayload } from "./http-io.js";
import { routeFor, type Reply, type RouteContext } from "./routes.js";
import { SessionManager } from "./sessions.js";
import { createSwerexMetrics, endpointLabel } from "./swerex-metrics.js";

/** What POST /sluice/sandboxes passes on: the JSON body as sent; the callback validates it. */
export type AdminCreateRequest = Readonly<Record<string, unknown>>;

export interface SwerexServerOptions {
  backend: SandboxBackend;
  /** Creates a sandbox for POST /sluice/sandboxes; throw ValidationError for a bad request. */
  createSandbox: (req: AdminCreateRequest) => Promise<{ sandboxId: string }>;
  /** Destroys a sandbox for DELETE /sluice/sandboxes/<id> and SWE-ReX's /close. */
  destroySandbox: (sandboxId: string) => Promise<void>;
  /** X-API-Key for the /sluice/* admin endpoints; must not be empty. */
  adminKey: string;
  /** Default 127.0.0.1; port 0 (default) picks a free port. */
  host?: string;
  port?: number;
  logger: Logger;
  registry?: Registry;
  /** Cap on JSON bodies (default 8 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /** Cap on /upload bodies (default 64 MiB). */
  maxUploadBytes?: number;
  /** Largest file /read_file returns (default 32 MiB). */
  maxReadBytes?: number;
}

export interface SwerexServer {
  /** Base URL, e.g. http://127.0.0.1:1234: RemoteRuntime(host=url, auth_token=key). */
  readonly url: string;
  readonly port: number;
  /** A new API key that drives `sandboxId` (for sandboxes created elsewhere, e.g. over gRPC). */
  issueKey(sandboxId: string): string;
  /** Forgets a sandbox's keys and sessions (call when it is destroyed elsewhere). */
  forgetSandbox(sandboxId: string): void;
  close(): Promise<void>;
}

const MAX_REPLAY_CHARS = 1024 * 1024;

interface CachedReply {
  requestId: string;
  reply: Reply;
}

/** A SWE-ReX-compatible HTTP API (swerex/server.py) over many sandboxes of one backend. */
export async function startSwerexServer(options: SwerexServerOptions): Promise<SwerexServer> {
  if (!options.adminKey) throw new ValidationError("the SWE-ReX server needs a non-empty admin key");
  const { logger } = options;
  const keys = new ApiKeys();
  const sessions = new SessionManager({ backend: options.backend, logger });
  const metrics = createSwerexMetrics(options.registry);
  // RemoteRuntime sends an X-Request-ID idempotency key; like swerex/server.py we replay
  // the last reply for a repeated id (per sandbox, since each has its own client).
  const lastReply = new Map<string, CachedReply>();
  const forget = (sandboxId: string): void => {
    keys.revoke(sandboxId);
    sessions.forgetSandbox(sandboxId);
    lastReply.delete(sandboxId);
  };
  const ctxBase = {
    backend: options.backend,
    sessions,
    maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024,
    maxUploadBytes: options.maxUploadBytes ?? 64 * 1024 * 1024,
    maxReadBytes: options.maxReadBytes ?? MAX_READ_BYTES,
    createSandbox: options.createSandbox,
    destroySandbox: async (sandboxId: string): Promise<void> => {
      // Keys go first so no new request reaches a sandbox that is being torn down.
      forget(sandboxId);
      await options.destroySandbox(sandboxId);
    },
    issueKey: (sandboxId: string) => keys.issue(sandboxId),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const route = routeFor(req.method ?? "GET", path);
    if (route.kind === "error") {
      readAndDiscard(req);
      sendJson(res, route.status, { detail: route.detail });
      return route.status;
    }
    const header = req.headers["x-api-key"];
    const key = typeof header === "string" ? header : "";
    let sandboxId = "";
    try {
      if (!key) throw new SwerexHttpError(401, "missing X-API-Key header");
      if (route.admin) {
        if (!sameKey(key, options.adminKey)) throw new SwerexHttpError(401, "Invalid API Key (admin key expected)");
      } else {
        sandboxId = keys.sandboxOf(key) ?? "";
        if (!sandboxId) {
          throw new SwerexHttpError(
            401,
            sameKey(key, options.adminKey)
              ? "the admin key does not select a sandbox; use the api_key returned by POST /sluice/sandboxes"
              : "Invalid API Key",
          );
        }
      }
      const requestId = headerValue(req, "x-request-id");
      const cached = sandboxId && requestId ? lastReply.get(sandboxId) : undefined;
      if (cached && cached.requestId === requestId) {
        readAndDiscard(req);
        sendJson(res, cached.reply.status, cached.reply.body);
        return cached.reply.status;
      }
      const ctx: RouteContext = { ...ctxBase, req, sandboxId, readBody: (limit) => readBody(req, limit) };
      const reply = await route.handler(ctx);
      const payload = JSON.stringify(reply.body);
      // Only small replies are kept for replay: a cached 32 MiB read_file per sandbox would
      // add up; a retried large request simply runs again.
      if (sandboxId && requestId && payload.length <= MAX_REPLAY_CHARS && keys.sandboxOf(key) === sandboxId) {
        lastReply.set(sandboxId, { requestId, reply });
      }
      sendPayload(res, reply.status, payload);
      return reply.status;
    } catch (err) {
      const reply = errorReply(err, route.admin);
      if (err instanceof SandboxNotFoundError && sandboxId) forget(sandboxId);
      if (reply.status >= 500 && reply.status !== 511) logger.error("SWE-ReX request failed", { path, err });
      else logger.debug("SWE-ReX request refused", { path, status: reply.status, error: errorMessage(err) });
      readAndDiscard(req);
      sendJson(res, reply.status, reply.body);
      return reply.status;
    }
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    handle(req, res)
      .then((status) => metrics.observe(endpointLabel(path), status, (performance.now() - started) / 1000))
      .catch((err: unknown) => {
        logger.error("SWE-ReX handler crashed", { path, err });
        if (!res.headersSent) sendJson(res, 500, { detail: "internal server error" });
        else res.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  logger.info("SWE-ReX API listening", { host: address.address, port: address.port });
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    issueKey: (sandboxId) => keys.issue(sandboxId),
    forgetSandbox: forget,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function headerValue(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return typeof v === "string" ? v : "";
}

/** Lets an unread request body flow away so the reply can be read by the client. */
function readAndDiscard(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}

function errorReply(err: unknown, admin: boolean): Reply {
  if (err instanceof SwerexHttpError) return { status: err.status, body: { detail: err.detail } };
  if (err instanceof SwerexException) return { status: 511, body: exceptionBody(err) };
  if (err instanceof SandboxNotFoundError) return { status: 404, body: { detail: err.message } };
  if (err instanceof SandboxCapacityError) return { status: 503, body: { detail: err.message } };
  if (err instanceof ValidationError) {
    if (admin) return { status: 400, body: { detail: err.message } };
    return { status: 511, body: exceptionBody(new SwerexException("builtins.ValueError", err.message)) };
  }
  if (admin) return { status: 500, body: { detail: errorMessage(err) } };
  // Like swerex/server.py: any other runtime failure travels to the client as an exception.
  return { status: 511, body: exceptionBody(new SwerexException("builtins.RuntimeError", errorMessage(err))) };
}
