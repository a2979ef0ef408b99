// Tool schemas a SWE agent is shown (docs/swe-environments.md, "Tools").
export {
  EDITOR_COMMANDS,
  SWE_TOOL_ALIASES,
  SWE_TOOL_SCHEMAS,
  canonicalToolName,
  type EditorCommand,
  type SweToolName,
  type SweToolParameterSchema,
  type SweToolParameters,
  type SweToolSchema,
} from "./schemas.js";
