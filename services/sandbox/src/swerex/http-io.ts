import type { IncomingMessage, ServerResponse } from "node:http";
import { SwerexHttpError } from "./errors.js";

/** Reads the whole body, refusing more than `limitBytes` without buffering the excess. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const tooLarge = (): SwerexHttpError =>
    new SwerexHttpError(413, `request body is larger than the server's limit of ${limitBytes} bytes`);
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    // Drain without keeping it, so the client gets to read our 413.
    req.resume();
    throw tooLarge();
  }
  // Listeners rather than `for await`: leaving an async iterator early destroys the socket
  // and the client would never see the 413.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limitBytes) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** JSON.parse with FastAPI's 422 shapes for an empty or undecodable body. */
export function parseJson(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") {
    throw new SwerexHttpError(422, [{ type: "missing", loc: ["body"], msg: "Field required", input: null }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message)?.[1];
    throw new SwerexHttpError(422, [
      {
        type: "json_invalid",
        loc: ["body", position === undefined ? 0 : Number(position)],
        msg: "JSON decode error",
        input: {},
        ctx: { error: message },
      },
    ]);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendPayload(res, status, JSON.stringify(body));
}

/** Sends an already serialised JSON body. */
export function sendPayload(res: ServerResponse, status: number, payload: string): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}
