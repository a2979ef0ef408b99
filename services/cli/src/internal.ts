// What sibling tests (test/) may use; nothing beyond the public API yet.
export * from "./index.js";
