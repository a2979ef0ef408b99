import type { IncomingMessage, ServerResponse } from "node:http";
import { readBoundedBody } from "@sluice/common";
import { SwerexHttpError } from "./errors.js";

/** Reads the whole body, refusing more than `limitBytes` (413) without buffering the excess. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return readBoundedBody(
    req,
    limitBytes,
    () => new SwerexHttpError(413, `request body is larger than the server's limit of ${limitBytes} bytes`),
  );
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
