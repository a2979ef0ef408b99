// For sibling packages' tests (actor): an in-memory engine and its toy template.
export * from "./testing/fake-engine.js";
