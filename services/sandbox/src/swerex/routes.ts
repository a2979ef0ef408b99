import type { IncomingMessage } from "node:http";
import type { SandboxBackend } from "../backend.js";
import { SandboxNotFoundError } from "../errors.js";
import { executeCommand } from "./commands.js";
import { SwerexHttpError } from "./errors.js";
import { readSandboxFile, uploadToSandbox, writeSandboxFile } from "./files.js";
import { parseJson } from "./http-io.js";
import {
  parseAction,
  parseCloseSession,
  parseCommand,
  parseCreateSession,
  parseReadFile,
  parseWriteFile,
} from "./models.js";
import { formBool, multipartBoundary, parseMultipart } from "./multipart.js";
import type { SessionManager } from "./sessions.js";

export interface Reply {
  status: number;
  body: unknown;
}

export interface RouteContext {
  backend: SandboxBackend;
  sessions: SessionManager;
  maxBodyBytes: number;
  maxUploadBytes: number;
  maxReadBytes: number;
  createSandbox: (req: Readonly<Record<string, unknown>>) => Promise<{ sandboxId: string }>;
  /** Revokes the sandbox's keys, then destroys it. */
  destroySandbox: (sandboxId: string) => Promise<void>;
  issueKey: (sandboxId: string) => string;
  req: IncomingMessage;
  /** The sandbox the API key selected ("" on admin routes). */
  sandboxId: string;
  readBody: (limitBytes: number) => Promise<Buffer>;
}

type Handler = (ctx: RouteContext) => Promise<Reply>;

export type Route =
  { kind: "route"; admin: boolean; handler: Handler } | { kind: "error"; status: number; detail: string };

const ok = (body: unknown): Reply => ({ status: 200, body });
const json = async (ctx: RouteContext): Promise<unknown> => parseJson(await ctx.readBody(ctx.maxBodyBytes));

/** swerex/server.py's endpoints, each served for the sandbox the API key selects. */
const SWEREX_ROUTES: Record<string, { method: "GET" | "POST"; handler: Handler }> = {
  "/": { method: "GET", handler: async () => ok({ message: "hello world" }) },
  "/is_alive": { method: "GET", handler: async () => ok({ is_alive: true, message: "" }) },
  "/create_session": {
    method: "POST",
    handler: async (ctx) => ok(await ctx.sessions.create(ctx.sandboxId, parseCreateSession(await json(ctx)))),
  },
  "/run_in_session": {
    method: "POST",
    handler: async (ctx) => ok(await ctx.sessions.run(ctx.sandboxId, parseAction(await json(ctx)))),
  },
  "/close_session": {
    method: "POST",
    handler: async (ctx) => ok(ctx.sessions.close(ctx.sandboxId, parseCloseSession(await json(ctx)).session)),
  },
  "/execute": {
    method: "POST",
    handler: async (ctx) => ok(await executeCommand(ctx.backend, ctx.sandboxId, parseCommand(await json(ctx)))),
  },
  "/read_file": {
    method: "POST",
    handler: async (ctx) =>
      ok(await readSandboxFile(ctx.backend, ctx.sandboxId, parseReadFile(await json(ctx)), ctx.maxReadBytes)),
  },
  "/write_file": {
    method: "POST",
    handler: async (ctx) => ok(await writeSandboxFile(ctx.backend, ctx.sandboxId, parseWriteFile(await json(ctx)))),
  },
  "/upload": { method: "POST", handler: upload },
  "/close": {
    method: "POST",
    handler: async (ctx) => {
      await ignoreGone(ctx.destroySandbox(ctx.sandboxId));
      return ok({});
    },
  },
};

async function upload(ctx: RouteContext): Promise<Reply> {
  const boundary = multipartBoundary(ctx.req.headers["content-type"]);
  const parts = parseMultipart(await ctx.readBody(ctx.maxUploadBytes), boundary);
  const field = (name: string) => parts.find((p) => p.name === name);
  const file = field("file");
  const target = field("target_path");
  const unzipText = field("unzip")?.data.toString("utf8") ?? "false";
  const unzip = formBool(unzipText);
  const issues = [
    ...(file ? [] : [{ type: "missing", loc: ["body", "file"], msg: "Field required", input: null }]),
    ...(target ? [] : [{ type: "missing", loc: ["body", "target_path"], msg: "Field required", input: null }]),
    ...(unzip === undefined
      ? [{ type: "bool_parsing", loc: ["body", "unzip"], msg: "Input should be a valid boolean", input: unzipText }]
      : []),
  ];
  if (!file || !target || unzip === undefined) throw new SwerexHttpError(422, issues);
  return ok(
    await uploadToSandbox(ctx.backend, ctx.sandboxId, {
      targetPath: target.data.toString("utf8"),
      unzip,
      filename: file.filename,
      data: file.data,
    }),
  );
}

/** Sluice's admin endpoints: sandboxes and their keys. */
async function adminCreate(ctx: RouteContext): Promise<Reply> {
  const body = await ctx.readBody(ctx.maxBodyBytes);
  const parsed = body.toString("utf8").trim() === "" ? {} : parseJson(body);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new SwerexHttpError(422, [
      { type: "model_attributes_type", loc: ["body"], msg: "Input should be a JSON object", input: parsed },
    ]);
  }
  const { sandboxId } = await ctx.createSandbox(parsed as Record<string, unknown>);
  return ok({ sandbox_id: sandboxId, api_key: ctx.issueKey(sandboxId) });
}

function adminDestroy(sandboxId: string): Handler {
  return async (ctx) => {
    await ctx.destroySandbox(sandboxId);
    return ok({ sandbox_id: sandboxId, destroyed: true });
  };
}

/** /close is idempotent: a sandbox that is already gone is closed. */
async function ignoreGone(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof SandboxNotFoundError)) throw err;
  }
}

export function routeFor(method: string, path: string): Route {
  const notAllowed: Route = { kind: "error", status: 405, detail: "Method Not Allowed" };
  if (path === "/sluice/sandboxes") {
    return method === "POST" ? { kind: "route", admin: true, handler: adminCreate } : notAllowed;
  }
  const m = /^\/sluice\/sandboxes\/([^/]+)$/.exec(path);
  if (m?.[1]) {
    if (method !== "DELETE") return notAllowed;
    let id: string;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      return { kind: "error", status: 404, detail: "Not Found" };
    }
    return { kind: "route", admin: true, handler: adminDestroy(id) };
  }
  const r = Object.hasOwn(SWEREX_ROUTES, path) ? SWEREX_ROUTES[path] : undefined;
  if (!r) return { kind: "error", status: 404, detail: "Not Found" };
  return r.method === method ? { kind: "route", admin: false, handler: r.handler } : notAllowed;
}
