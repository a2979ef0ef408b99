import { SluiceError } from "@sluice/common";
import type { GuidanceKind } from "./types.js";

/** A guidance provider could not produce its text (teacher down, bad response). Retryable. */
export class GuidanceProviderError extends SluiceError {
  constructor(
    message: string,
    readonly kind: GuidanceKind,
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, retryable: true });
    this.name = "GuidanceProviderError";
  }
}

/** The guided context is not the unguided one plus one inserted span (span unknown). */
export class GuidanceSpanError extends SluiceError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = "GuidanceSpanError";
  }
}
