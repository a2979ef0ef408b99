import { request } from "node:http";
import { SluiceError } from "@sluice/common";
import { EXEC_PATHS, EXEC_PORT, type ExecRequest, type ExecResponse, type WorkspaceArchive } from "./exec-protocol.js";

/** An exec-server call that failed; `status` 0 when no response came back (retryable). */
export class ExecServerError extends SluiceError {
  constructor(
    readonly address: string,
    readonly status: number,
    message: string,
  ) {
    super(`exec server ${address}: ${status || "no response"}: ${message}`, {
      retryable: status === 0 || status >= 500,
      context: { address, status },
    });
    this.name = "ExecServerError";
  }
}

/** Talks to one sandbox pod's exec server. Every call has a deadline. */
export class ExecClient {
  constructor(
    readonly host: string,
    private readonly token: string,
    readonly port = EXEC_PORT,
  ) {}

  async exec(r: ExecRequest): Promise<ExecResponse> {
    // The server enforces r.timeoutMs; our deadline leaves it room to report the timeout.
    const body = await this.call("POST", EXEC_PATHS.exec, JSON.stringify(r), r.timeoutMs + 15_000);
    return JSON.parse(body.toString("utf8")) as ExecResponse;
  }

  async writeFile(path: string, content: Uint8Array): Promise<void> {
    await this.call("PUT", `${EXEC_PATHS.files}?path=${encodeURIComponent(path)}`, Buffer.from(content), 30_000);
  }

  async readFile(path: string, maxBytes: number): Promise<{ content: Buffer; truncated: boolean; found: boolean }> {
    const q = `?path=${encodeURIComponent(path)}&maxBytes=${maxBytes}`;
    try {
      const { body, headers } = await this.callWithHeaders("GET", EXEC_PATHS.files + q, undefined, 30_000);
      return { content: body, truncated: headers["x-truncated"] === "true", found: true };
    } catch (err) {
      if (err instanceof ExecServerError && err.status === 404)
        return { content: Buffer.alloc(0), truncated: false, found: false };
      throw err;
    }
  }

  async upload(archive: WorkspaceArchive): Promise<void> {
    await this.call("POST", EXEC_PATHS.workspace, JSON.stringify(archive), 120_000);
  }

  async reset(): Promise<void> {
    await this.call("POST", EXEC_PATHS.reset, "", 30_000);
  }

  async healthy(): Promise<boolean> {
    try {
      await this.call("GET", EXEC_PATHS.health, undefined, 2_000);
      return true;
    } catch {
      return false;
    }
  }

  private async call(
    method: string,
    path: string,
    body: string | Buffer | undefined,
    timeoutMs: number,
  ): Promise<Buffer> {
    return (await this.callWithHeaders(method, path, body, timeoutMs)).body;
  }

  private callWithHeaders(
    method: string,
    path: string,
    body: string | Buffer | undefined,
    timeoutMs: number,
  ): Promise<{ body: Buffer; headers: Record<string, string | string[] | undefined> }> {
    const address = `${this.host}:${this.port}`;
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, method, path, headers: { authorization: `Bearer ${this.token}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const out = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve({ body: out, headers: res.headers });
            else reject(new ExecServerError(address, status, out.toString("utf8").slice(0, 500)));
          });
          res.on("error", (e) => reject(new ExecServerError(address, 0, e.message)));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (e) => reject(new ExecServerError(address, 0, e.message)));
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }
}
