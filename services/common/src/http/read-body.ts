import type { IncomingMessage } from "node:http";

/**
 * Reads a whole request body, refusing more than `limitBytes` without buffering the excess:
 * a declared Content-Length over the limit is refused before reading, a body that grows past
 * it is refused mid-stream. `tooLarge` makes the caller's own error (each server answers
 * oversize requests in its API's shape).
 */
export function readBoundedBody(req: IncomingMessage, limitBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    // Drain without keeping it, so the client gets to read the refusal.
    req.resume();
    return Promise.reject(tooLarge());
  }
  // Listeners rather than `for await`: leaving an async iterator early destroys the socket
  // and the client would never see the refusal.
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
