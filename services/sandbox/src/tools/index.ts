// SWE agent tools run inside a sandbox (docs/swe-environments.md, "Tools").
export {
  ToolRunner,
  INVALID_CALL_EXIT_CODE,
  type RunToolOptions,
  type ToolResult,
  type ToolRunnerOptions,
} from "./tool-runner.js";
export {
  DEFAULT_PATCH_EXCLUDES,
  PatchExtractionError,
  extractPatch,
  type ExtractPatchOptions,
  type ExtractedPatch,
} from "./patch.js";
export { parseToolCall, toolSignature, type ParsedToolCall, type ToolCall, type InvalidToolCall } from "./tool-call.js";
export { elideMiddle, elisionNote, formatObservation } from "./observation.js";
export { DEFAULT_EDITOR_OPTIONS, type EditorOptions } from "./editor.js";
export { WORKSPACE_ROOT } from "./sandbox-files.js";
