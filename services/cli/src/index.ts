// Public API of @sluice/cli: the pieces `sluice up` is made of, for tests and tooling.
export * from "./args.js";
export * from "./errors.js";
export * from "./health.js";
export * from "./ports.js";
export * from "./progress.js";
export * from "./summary.js";
export * from "./supervisor.js";
export * from "./stall-watchdog.js";
export * from "./event-watch.js";
export * from "./run-dir.js";
