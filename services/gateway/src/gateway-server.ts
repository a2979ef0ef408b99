import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage, type EngineApi, type Logger, type ServiceContext } from "@sluice/common";
import { completeChat } from "./chat-completion.js";
import { GatewayHttpError, NotFoundError } from "./errors.js";
import { createGatewayMetrics, type GatewayMetrics } from "./gateway-metrics.js";
import { errorBody, readJsonBody, sendJson } from "./http-io.js";
import { SessionStore } from "./session-store.js";
import { DEFAULT_VALIDATION, validateChatRequest } from "./validate-request.js";

export interface GatewayServerOptions {
  engine: EngineApi;
  /** The one model this gateway serves (the spec's model name). */
  model: string;
  logger: Logger;
  registry: ServiceContext["registry"];
  /** Request body cap; larger bodies get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Idle time after which a session is forgotten. Default 30 minutes. */
  sessionIdleTtlMs?: number;
  /** Sessions held at most; the least recently used is evicted beyond. Default 4096. */
  maxSessions?: number;
  /** max_tokens when the request sets none. Default 1024. */
  defaultMaxTokens?: number;
  /** Largest max_tokens accepted. Default 32768. */
  maxTokensLimit?: number;
  now?: () => number;
  makeToolCallId?: () => string;
}

export interface GatewayServer {
  /** Starts listening; port 0 picks a free port. Resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  /** Base URL such as http://127.0.0.1:1234 (no /v1); throws before listen(). */
  readonly url: string;
  readonly sessions: SessionStore;
  readonly metrics: GatewayMetrics;
}

const DEFAULTS = {
  maxBodyBytes: 4 * 1024 * 1024,
  sessionIdleTtlMs: 30 * 60_000,
  maxSessions: 4096,
};
const SWEEP_INTERVAL_MS = 30_000;
const SESSION_PATH = /^\/v1\/sessions\/([^/]+)$/;
const MODEL_PATH = /^\/v1\/models\/([^/]+)$/;

/** The OpenAI-compatible HTTP front of the engine; see CONTRIBUTING for the extension. */
export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  const metrics = createGatewayMetrics(options.registry);
  const logger = options.logger;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const sessions = new SessionStore({
    maxSessions: options.maxSessions ?? DEFAULTS.maxSessions,
    idleTtlMs: options.sessionIdleTtlMs ?? DEFAULTS.sessionIdleTtlMs,
    ...(options.now ? { now: options.now } : {}),
    onEvict: (s, reason) => {
      metrics.sessionsEvicted.inc({ reason });
      logger.debug("session evicted", { sessionId: s.id, reason });
    },
  });
  const validation = {
    maxTokens: options.defaultMaxTokens ?? DEFAULT_VALIDATION.maxTokens,
    maxTokensLimit: options.maxTokensLimit ?? DEFAULT_VALIDATION.maxTokensLimit,
  };
  const created = Math.floor((options.now ?? Date.now)() / 1000);
  const modelObject = { id: options.model, object: "model", created, owned_by: "sluice" };

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<number> => {
    const method = req.method ?? "GET";
    if (path === "/healthz") {
      if (method !== "GET") return methodNotAllowed(res, "GET");
      sendJson(res, 200, { status: "ok" });
      return 200;
    }
    if (path === "/v1/models") {
      if (method !== "GET") return methodNotAllowed(res, "GET");
      sendJson(res, 200, { object: "list", data: [modelObject] });
      return 200;
    }
    const modelMatch = MODEL_PATH.exec(path);
    if (modelMatch) {
      if (method !== "GET") return methodNotAllowed(res, "GET");
      const id = decodeURIComponent(modelMatch[1] as string);
      if (id !== options.model)
        throw new NotFoundError(`model ${JSON.stringify(id)} does not exist`, "model", "model_not_found");
      sendJson(res, 200, modelObject);
      return 200;
    }
    if (path === "/v1/chat/completions") {
      if (method !== "POST") return methodNotAllowed(res, "POST");
      const params = validateChatRequest(await readJsonBody(req, maxBodyBytes), validation);
      const completion = await completeChat(
        {
          engine: options.engine,
          model: options.model,
          sessions,
          metrics,
          logger,
          ...(options.now ? { now: options.now } : {}),
          ...(options.makeToolCallId ? { makeToolCallId: options.makeToolCallId } : {}),
        },
        params,
      );
      sendJson(res, 200, completion);
      return 200;
    }
    const sessionMatch = SESSION_PATH.exec(path);
    if (sessionMatch) {
      if (method !== "DELETE") return methodNotAllowed(res, "DELETE");
      const id = decodeURIComponent(sessionMatch[1] as string);
      // Idempotent: actors free sessions at episode end whether or not they expired.
      const deleted = sessions.delete(id);
      metrics.sessionsActive.set(sessions.size);
      sendJson(res, 200, { id, object: "sluice.session", deleted });
      return 200;
    }
    throw new NotFoundError(`no route for ${method} ${path}`, null, "unknown_url");
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? "/").split("?")[0] as string;
    const label = routeLabel(path);
    const stopTimer = metrics.latency.startTimer({ route: label });
    route(req, res, path)
      .catch((err: unknown) => respondError(res, err, logger, path))
      .then((status) => {
        stopTimer();
        metrics.requests.inc({ route: label, status: String(status) });
      })
      .catch((err: unknown) => logger.error("request handling failed", { err: errorMessage(err) }));
  };

  const server: Server = createServer(handle);
  // Sampling on CPU can take minutes; the engine client's own deadlines bound it.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  let sweeper: NodeJS.Timeout | undefined;
  let baseUrl: string | undefined;

  return {
    sessions,
    metrics,
    get url(): string {
      if (baseUrl === undefined) throw new Error("gateway is not listening yet");
      return baseUrl;
    },
    listen: async (port = 0, host = "127.0.0.1") => {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const addr = server.address() as AddressInfo;
      const urlHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      baseUrl = `http://${urlHost}:${addr.port}`;
      sweeper = setInterval(() => {
        sessions.sweep();
        metrics.sessionsActive.set(sessions.size);
      }, SWEEP_INTERVAL_MS);
      sweeper.unref();
      logger.info("gateway listening", { url: baseUrl, model: options.model });
      return baseUrl;
    },
    close: async () => {
      if (sweeper) clearInterval(sweeper);
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

function routeLabel(path: string): string {
  if (path === "/healthz" || path === "/v1/models" || path === "/v1/chat/completions") return path;
  if (MODEL_PATH.test(path)) return "/v1/models/:id";
  if (SESSION_PATH.test(path)) return "/v1/sessions/:id";
  return "other";
}

function methodNotAllowed(res: ServerResponse, allow: string): number {
  sendJson(
    res,
    405,
    {
      error: {
        message: `method not allowed; use ${allow}`,
        type: "invalid_request_error",
        param: null,
        code: "method_not_allowed",
      },
    },
    { allow },
  );
  return 405;
}

function respondError(res: ServerResponse, err: unknown, logger: Logger, path: string): number {
  const httpErr =
    err instanceof GatewayHttpError
      ? err
      : new GatewayHttpError(500, "server_error", `internal error: ${errorMessage(err)}`, null, "internal_error", {
          cause: err,
        });
  if (httpErr.status >= 500) logger.warn("request failed", { path, status: httpErr.status, err: errorMessage(err) });
  else logger.debug("request rejected", { path, status: httpErr.status, err: httpErr.message });
  if (res.headersSent) {
    res.destroy();
    return httpErr.status;
  }
  // After a 413 the rest of the body is unread; closing avoids reading megabytes we refuse.
  const headers: Record<string, string> = httpErr.status === 413 ? { connection: "close" } : {};
  sendJson(res, httpErr.status, errorBody(httpErr), headers);
  return httpErr.status;
}
