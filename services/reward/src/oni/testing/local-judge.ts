import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface LocalJudgeOptions {
  /** Answer for one prompt; default "Answer: 1" if it contains "PASS", else "Answer: 0". */
  answer?: (prompt: string) => string;
  /** Delay before each response, in ms. */
  delayMs?: number;
  /** The first `failFirst` requests get HTTP 500 (for retry tests). */
  failFirst?: number;
  /** Counts requests per this key of a prompt; default: the whole prompt. */
  keyOf?: (prompt: string) => string;
}

export interface LocalJudge {
  /** Server root, e.g. http://127.0.0.1:1234 (no /v1). */
  baseUrl: string;
  /** Requests seen (including failed ones). */
  readonly requests: number;
  /** Prompts answered per key (keyOf). */
  countFor(key: string): number;
  /** Changes the failure count at run time. */
  setFailFirst(n: number): void;
  close(): Promise<void>;
}

export const passRule = (prompt: string): string => (prompt.includes("PASS") ? "Answer: 1" : "Answer: 0");

/**
 * A deterministic OpenAI-compatible judge for tests: POST /v1/chat/completions
 * (answers the last user message) and /v1/completions (prompt string or array).
 */
export async function startLocalJudge(options: LocalJudgeOptions = {}): Promise<LocalJudge> {
  const answer = options.answer ?? passRule;
  const keyOf = options.keyOf ?? ((p: string) => p);
  const counts = new Map<string, number>();
  const state = { requests: 0, failFirst: options.failFirst ?? 0 };
  const server: Server = createServer((req, res) => {
    void handle(req).then(
      ({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      },
      (err: unknown) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: String(err) } }));
      },
    );
  });

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    state.requests++;
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    if (state.failFirst > 0) {
      state.failFirst--;
      return { status: 500, body: { error: { message: "injected failure" } } };
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      messages?: { role: string; content: string }[];
      prompt?: string | string[];
    };
    const count = (p: string): string => {
      const k = keyOf(p);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      return answer(p);
    };
    if (req.url === "/v1/chat/completions") {
      const user = [...(body.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";
      const content = count(user);
      return {
        status: 200,
        body: {
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        },
      };
    }
    if (req.url === "/v1/completions") {
      const prompts = typeof body.prompt === "string" ? [body.prompt] : (body.prompt ?? []);
      return {
        status: 200,
        body: {
          object: "text_completion",
          choices: prompts.map((p, index) => ({ index, text: count(p), finish_reason: "stop" })),
        },
      };
    }
    return { status: 404, body: { error: { message: `no route ${req.url ?? ""}` } } };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    countFor: (key) => counts.get(key) ?? 0,
    setFailFirst: (n) => {
      state.failFirst = n;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
