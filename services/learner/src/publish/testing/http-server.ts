import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as a test server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  body: unknown;
  authorization?: string;
}

/**
 * What a test server does with the next requests before its API logic runs: answer 5xx,
 * hang (no answer until the client gives up), or drop the connection.
 */
export type Fault = { kind: "status"; status: number; body?: string } | { kind: "hang" } | { kind: "reset" };

export type Handler = (req: SeenRequest, res: ServerResponse) => void;

/** A loopback HTTP server with a fault queue and a request log. */
export class TestHttpServer {
  readonly requests: SeenRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(handler: Handler): Promise<TestHttpServer> {
    const late: { server?: TestHttpServer } = {};
    const server = createServer((req, res) => void late.server?.dispatch(req, res, handler));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    late.server = new TestHttpServer(server, `http://127.0.0.1:${port}`);
    return late.server;
  }

  /** The next `times` requests meet `fault` instead of the API. */
  inject(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, handler: Handler): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = raw ? (JSON.parse(raw) as unknown) : undefined;
    } catch {
      body = raw;
    }
    const seen: SeenRequest = {
      method: req.method ?? "",
      path: (req.url ?? "").split("?")[0] ?? "",
      body,
      authorization: req.headers.authorization,
    };
    this.requests.push(seen);
    const fault = this.faults.shift();
    if (fault?.kind === "status") {
      res.writeHead(fault.status, { "content-type": "text/plain" }).end(fault.body ?? "Internal Server Error");
      return;
    }
    if (fault?.kind === "hang") {
      this.hanging.add(res);
      return;
    }
    if (fault?.kind === "reset") {
      req.socket.destroy();
      return;
    }
    handler(seen, res);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** FastAPI's answer for a route that is not mounted. */
export function notFoundRoute(res: ServerResponse): void {
  sendJson(res, 404, { detail: "Not Found" });
}
