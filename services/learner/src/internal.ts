// For tests (this package's and cross-service ones): fixtures and the fake engine.
export * from "./testing/fake-engine.js";
export * from "./testing/fixtures.js";
