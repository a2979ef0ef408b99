import { SluiceError } from "@sluice/common";

/** A package or option the builder cannot work with; names the package/version involved. */
export class TaskBuildError extends SluiceError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { context, ...(cause === undefined ? {} : { cause }) });
    this.name = "TaskBuildError";
  }
}
