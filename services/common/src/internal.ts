// Entry for siblings' tests: fixtures and in-process harnesses that are not public API.
export * from "./testing/nats-server.js";
export * from "./testing/engine-process.js";
export * from "./testing/kube-cluster.js";
export * from "./testing/sluice-cli.js";
