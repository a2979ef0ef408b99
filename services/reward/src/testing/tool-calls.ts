import { contracts } from "@sluice/common";

/** A tool call; valid with exit code 0 unless overridden. */
export function toolCall(
  name: string,
  args: Record<string, unknown> = {},
  overrides: Partial<contracts.ToolCall> = {},
) {
  return contracts.ToolCall.fromPartial({
    name,
    argumentsJson: JSON.stringify(args),
    valid: true,
    exitCode: 0,
    ...overrides,
  });
}
