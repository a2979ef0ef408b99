import { SluiceError, type SluiceErrorOptions } from "@sluice/common";

/** OpenAI error `type` values the gateway emits. */
export type OpenAiErrorType = "invalid_request_error" | "not_found_error" | "server_error" | "service_unavailable";

/**
 * An error that maps onto an HTTP status and the OpenAI error body
 * `{error: {message, type, param, code}}`, so OpenAI clients raise their typed errors.
 */
export class GatewayHttpError extends SluiceError {
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  constructor(
    status: number,
    type: OpenAiErrorType,
    message: string,
    param: string | null = null,
    code: string | null = null,
    options: SluiceErrorOptions = {},
  ) {
    super(message, options);
    this.name = "GatewayHttpError";
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }
}

/** A request the client must fix (400); `param` names the offending field. */
export class InvalidRequestError extends GatewayHttpError {
  constructor(param: string | null, message: string, code: string | null = "invalid_value") {
    super(400, "invalid_request_error", message, param, code);
    this.name = "InvalidRequestError";
  }
}

export class PayloadTooLargeError extends GatewayHttpError {
  constructor(limitBytes: number) {
    super(413, "invalid_request_error", `request body exceeds ${limitBytes} bytes`, null, "payload_too_large");
    this.name = "PayloadTooLargeError";
  }
}

export class NotFoundError extends GatewayHttpError {
  constructor(message: string, param: string | null = null, code: string | null = "not_found") {
    super(404, "invalid_request_error", message, param, code);
    this.name = "NotFoundError";
  }
}

/** The engine failed or timed out; a retry may help (503). */
export class EngineUnavailableError extends GatewayHttpError {
  constructor(message: string, cause: unknown) {
    super(503, "service_unavailable", message, null, "engine_unavailable", { cause, retryable: true });
    this.name = "EngineUnavailableError";
  }
}
