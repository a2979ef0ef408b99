import { timingSafeEqual } from "node:crypto";
import { mkdir, readdir, rm, symlink, writeFile, open } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { ValidationError, errorMessage } from "@sluice/common";
import { runProcess } from "../process-runner.js";
import { normaliseRelativePath, resolveWorkspacePath } from "../workspace-path.js";
import { EXEC_PATHS, type ExecRequest, type ExecResponse, type WorkspaceArchive } from "./exec-protocol.js";

export interface ExecServerOptions {
  host: string;
  port: number;
  /** Bearer token every request must carry. */
  token: string;
  workspace: string;
  /** Emptied by reset too. */
  tmpDir: string;
  maxTimeoutMs: number;
  maxOutputBytes: number;
  maxBodyBytes: number;
}

export interface ExecServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The sandbox service's API inside a sandbox pod. An init container copies node and this
 * server into a shared volume so task images stay unmodified; the sandbox service then drives
 * the pod over HTTP (inside the pod's network policy) instead of the Kubernetes exec API, which
 * would need pods/exec rights and an API-server round trip per command. Commands run in their
 * own process group with a deadline (the same runner as the local backend); reset kills every
 * command still running and empties the workspace and /tmp for the next episode.
 */
export async function startExecServer(o: ExecServerOptions): Promise<ExecServer> {
  const running = new Set<AbortController>();
  const expected = Buffer.from(`Bearer ${o.token}`);
  const authorised = (req: IncomingMessage): boolean => {
    const got = Buffer.from(req.headers.authorization ?? "");
    return got.length === expected.length && timingSafeEqual(got, expected);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://sandbox");
    if (url.pathname === EXEC_PATHS.health) return send(res, 200, { ok: true });
    if (!authorised(req)) return send(res, 401, { error: "unauthorised" });
    if (req.method === "POST" && url.pathname === EXEC_PATHS.exec) {
      const body = JSON.parse((await readBody(req, o.maxBodyBytes)).toString("utf8")) as ExecRequest;
      return send(res, 200, await exec(body));
    }
    if (url.pathname === EXEC_PATHS.files) {
      const path = url.searchParams.get("path") ?? "";
      const target = await resolveWorkspacePath(o.workspace, path);
      if (req.method === "PUT") {
        if (target.isDirectory) throw new ValidationError(`${path} is a directory`);
        await mkdir(dirname(target.hostPath), { recursive: true });
        await writeFile(target.hostPath, await readBody(req, o.maxBodyBytes));
        return send(res, 204);
      }
      if (!target.exists || target.isDirectory) return send(res, 404, { error: `${path}: no such file` });
      const maxBytes = Number(url.searchParams.get("maxBytes") ?? 0) || o.maxBodyBytes;
      const fh = await open(target.hostPath, "r");
      try {
        const { size } = await fh.stat();
        const buf = Buffer.alloc(Math.min(size, maxBytes));
        await fh.read(buf, 0, buf.length, 0);
        res.writeHead(200, { "content-type": "application/octet-stream", "x-truncated": String(size > maxBytes) });
        res.end(buf);
        return;
      } finally {
        await fh.close();
      }
    }
    if (req.method === "POST" && url.pathname === EXEC_PATHS.workspace) {
      const archive = JSON.parse((await readBody(req, o.maxBodyBytes)).toString("utf8")) as WorkspaceArchive;
      await unpack(archive);
      return send(res, 204);
    }
    if (req.method === "POST" && url.pathname === EXEC_PATHS.reset) {
      for (const c of running) c.abort();
      await emptyDir(o.workspace);
      await emptyDir(o.tmpDir);
      return send(res, 204);
    }
    return send(res, 404, { error: "no such endpoint" });
  };

  const exec = async (r: ExecRequest): Promise<ExecResponse> => {
    if (!Array.isArray(r.argv) || r.argv.length === 0) throw new ValidationError("argv is empty");
    const workdir = (await resolveWorkspacePath(o.workspace, r.workdir ?? "", "workdir")).hostPath;
    const envArgs = Object.entries(r.env ?? {}).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ValidationError(`bad environment name ${k}`);
      return `${k}=${v}`;
    });
    const abort = new AbortController();
    running.add(abort);
    try {
      // sh changes directory, env sets the variables: both exist in every task image, and the
      // command still gets its argv verbatim.
      const result = await runProcess({
        file: "/bin/sh",
        args: ["-c", 'cd -- "$0" && exec env "$@"', workdir, ...envArgs, ...r.argv],
        stdin: Buffer.from(r.stdinB64 ?? "", "base64"),
        timeoutMs: Math.min(r.timeoutMs > 0 ? r.timeoutMs : o.maxTimeoutMs, o.maxTimeoutMs),
        maxOutputBytes: Math.min(r.maxOutputBytes > 0 ? r.maxOutputBytes : o.maxOutputBytes, o.maxOutputBytes),
        signal: abort.signal,
      });
      return {
        exitCode: result.exitCode,
        signal: result.signal,
        stdoutB64: result.stdout.toString("base64"),
        stderrB64: result.stderr.toString("base64"),
        timedOut: result.timedOut,
        outputTruncated: result.outputTruncated,
        durationMs: result.durationMs,
      };
    } finally {
      running.delete(abort);
    }
  };

  const unpack = async (a: WorkspaceArchive): Promise<void> => {
    for (const f of a.files) {
      const rel = normaliseRelativePath(f.path);
      const dest = join(o.workspace, rel);
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, Buffer.from(f.contentB64, "base64"), { mode: f.mode & 0o777 });
    }
    for (const l of a.symlinks) {
      const dest = join(o.workspace, normaliseRelativePath(l.path));
      await mkdir(dirname(dest), { recursive: true });
      await symlink(l.target, dest);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof ValidationError ? 400 : err instanceof BodyTooLargeError ? 413 : 500;
      if (!res.headersSent) send(res, status, { error: errorMessage(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const c of running) c.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError(`request body over ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function emptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}
