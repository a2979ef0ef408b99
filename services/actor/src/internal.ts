// For sibling and cross-service tests only: in-process stand-ins, not public API.
export * from "./testing/fake-gateway.js";
