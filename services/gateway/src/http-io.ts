import type { IncomingMessage, ServerResponse } from "node:http";
import { readBoundedBody } from "@sluice/common";
import { GatewayHttpError, InvalidRequestError, PayloadTooLargeError } from "./errors.js";
import type { OpenAiErrorBody } from "./openai-types.js";

/** Reads and parses a JSON body, refusing more than `limitBytes` without buffering it all. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const body = await readBoundedBody(req, limitBytes, () => new PayloadTooLargeError(limitBytes));
  const text = body.toString("utf8");
  if (text.trim().length === 0)
    throw new InvalidRequestError(null, "request body is empty; expected JSON", "invalid_json");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidRequestError(null, `request body is not valid JSON: ${(err as Error).message}`, "invalid_json");
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

export function errorBody(err: GatewayHttpError): OpenAiErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}
