// Weight publishing to inference servers: the engine (nothing to move), vLLM (LoRA adapters
// under versioned names), SGLang (full weights from disk).
export * from "./errors.js";
export * from "./http.js";
export * from "./vllm.js";
export * from "./sglang.js";
export * from "./publisher.js";
export * from "./publication.js";
