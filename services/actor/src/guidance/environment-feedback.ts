import type { GuidanceInput, GuidanceItem, GuidanceProvider } from "./types.js";
import { truncateToBudget } from "./text-budget.js";

export interface EnvironmentFeedbackOptions {
  maxChars: number;
  maxTests: number;
  /**
   * The message: `{feedback}` is the failing tests (or "Your previous attempt failed: <detail>"
   * without a verifier report), `{detail}` the outcome detail alone. Default
   * DEFAULT_FEEDBACK_TEMPLATE.
   */
  template?: string;
}

export const DEFAULT_FEEDBACK_TEMPLATE = "Feedback on your previous attempt:\n{feedback}";

interface SuccessFailure {
  failure?: unknown;
}

/** The fields of a SWE-bench-shaped verifier report that feedback reads (all optional). */
interface ReportView {
  outcome_level?: unknown;
  tests_status?: Record<string, SuccessFailure | undefined>;
  failure_messages?: Record<string, unknown>;
  grading_problems?: unknown;
  patch_successfully_applied?: unknown;
  done_reason?: unknown;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** The report object, unwrapping the actor's `{ raw_report }` wrapper when the JSON was not an object. */
function parseReport(json: string): ReportView | undefined {
  if (!json) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
    return parsed as ReportView;
  } catch {
    return undefined;
  }
}

/**
 * Environment feedback (Agent-RLVR's "environment feedback" guidance): the tests the failed
 * attempt left failing, their assertion messages / error output from the verifier report,
 * and grading problems such as a patch that did not apply. Truncated to a budget so a huge
 * stack trace cannot crowd out the task. Environments without a verifier report fall back
 * to the outcome detail.
 */
export function environmentFeedbackText(input: GuidanceInput, o: EnvironmentFeedbackOptions): string | undefined {
  const t = input.failed;
  const report = parseReport(t.verifierReportJson);
  const lines: string[] = [];
  if (report) {
    const status = report.tests_status ?? {};
    // FAIL_TO_PASS failures are what the task asks to fix; PASS_TO_PASS failures are regressions.
    const failing = [...strings(status.FAIL_TO_PASS?.failure), ...strings(status.PASS_TO_PASS?.failure)];
    if (report.patch_successfully_applied === false) lines.push("Your patch did not apply to the repository.");
    if (failing.length > 0) {
      lines.push(`These tests failed after your change (${failing.length}):`);
      const messages = report.failure_messages ?? {};
      for (const id of failing.slice(0, o.maxTests)) {
        lines.push(`- ${id}`);
        for (const m of strings(messages[id])) lines.push(`    ${m.split("\n").join("\n    ")}`);
      }
      if (failing.length > o.maxTests) lines.push(`… and ${failing.length - o.maxTests} more.`);
    }
    const problems = strings(report.grading_problems);
    if (problems.length > 0) lines.push(`Grading problems: ${problems.join("; ")}`);
  }
  const detail = t.outcome?.detail ?? "";
  if (lines.length === 0) {
    if (!detail) return undefined;
    lines.push(`Your previous attempt failed: ${detail}`);
  }
  // One pass, so a `{detail}` inside the feedback text is not expanded again.
  const text = (o.template ?? DEFAULT_FEEDBACK_TEMPLATE).replace(/\{(feedback|detail)\}/g, (_, key: string) =>
    key === "feedback" ? lines.join("\n") : detail,
  );
  return truncateToBudget(text, o.maxChars);
}

export class EnvironmentFeedbackProvider implements GuidanceProvider {
  readonly kind = "environment_feedback" as const;
  constructor(private readonly o: EnvironmentFeedbackOptions) {}

  build(input: GuidanceInput): Promise<GuidanceItem | undefined> {
    const text = environmentFeedbackText(input, this.o);
    return Promise.resolve(text === undefined ? undefined : { kind: this.kind, text, source: "verifier_report" });
  }
}
