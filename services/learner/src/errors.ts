import { SluiceError } from "@sluice/common";

/** The engine answered, but with something that cannot be right (counts or lengths). */
export class EngineResponseError extends SluiceError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { retryable: false, context });
    this.name = "EngineResponseError";
  }
}
