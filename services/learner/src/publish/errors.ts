import { SluiceError } from "@sluice/common";

export type InferenceBackend = "engine" | "vllm" | "sglang";

/** Where a failed weight-publish call went and what came back. */
export interface PublishErrorContext {
  backend: InferenceBackend;
  /** The endpoint URL, e.g. http://host:8000/v1/load_lora_adapter. */
  url?: string;
  /** HTTP status, when the server answered. */
  status?: number;
  /** Policy version being published. */
  version?: number;
  /** Attempts made (1 + retries used). */
  attempts?: number;
  [key: string]: unknown;
}

/**
 * Publishing a policy version to an inference server failed. `retryable` says whether the
 * same call can succeed later (connection refused, 5xx, deadline) or not (the server refused
 * the request: bad path, adapter rejected, feature disabled).
 */
export class PublishError extends SluiceError {
  declare readonly context: PublishErrorContext;
  constructor(message: string, context: PublishErrorContext, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { cause: options.cause, retryable: options.retryable ?? false, context });
    this.name = "PublishError";
  }
}
