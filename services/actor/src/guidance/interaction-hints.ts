import type { GuidanceInput, GuidanceItem, GuidanceProvider } from "./types.js";

/** The task's test command (SWE tasks: env.test_command argv plus a test file). */
function testCommandOf(input: GuidanceInput): string {
  const env = (input.task.payload as { env?: { test_command?: unknown; test_files?: unknown } } | null)?.env;
  const argv = Array.isArray(env?.test_command) ? env.test_command.filter((a) => typeof a === "string") : [];
  const files = Array.isArray(env?.test_files) ? env.test_files.filter((a) => typeof a === "string") : [];
  if (argv.length === 0) return "npm test";
  return [...argv, files[0] ?? "<test file>"].join(" ");
}

/** Interaction hints (Agent-RLVR): how to navigate the environment and run things. */
export class InteractionHints implements GuidanceProvider {
  readonly kind = "interaction_hint" as const;
  constructor(private readonly template: string) {}

  build(input: GuidanceInput): Promise<GuidanceItem | undefined> {
    const text = this.template.replaceAll("{test_cmd}", testCommandOf(input));
    return Promise.resolve({ kind: this.kind, text, source: "static" });
  }
}
