// Generated contracts, re-exported so services never import gen/ paths directly.
export * from "./gen/index.js";
