// For sibling and cross-service tests only: in-process stand-ins, not public API.
export * from "./testing/fake-gateway.js";
export * from "./testing/oracle-policy.js";
export * from "./testing/patch-tool-calls.js";
export * from "./testing/fake-sandbox.js";
export * from "./guidance/index.js";
