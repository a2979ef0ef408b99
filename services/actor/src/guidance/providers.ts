import type { GuidanceConfig } from "@sluice/common";
import { EnvironmentFeedbackProvider } from "./environment-feedback.js";
import { InteractionHints } from "./interaction-hints.js";
import { TaskMetadataPlanHints, TeacherPlanHints } from "./plan-hints.js";
import type { GuidanceProvider } from "./types.js";

/**
 * The enabled guidance kinds, in the order their text appears in the guidance message:
 * environment feedback first (what went wrong, and what a teacher gets to read), then the
 * plan, then interaction hints.
 */
export function guidanceProviders(config: GuidanceConfig, fetchImpl?: typeof fetch): GuidanceProvider[] {
  const out: GuidanceProvider[] = [];
  if (config.environmentFeedback.enabled) out.push(new EnvironmentFeedbackProvider(config.environmentFeedback));
  const plan = config.planHints;
  if (plan.enabled) {
    out.push(
      plan.source === "teacher"
        ? new TeacherPlanHints({ ...plan.teacher, maxChars: plan.maxChars, ...(fetchImpl ? { fetch: fetchImpl } : {}) })
        : new TaskMetadataPlanHints(plan.maxChars),
    );
  }
  if (config.interactionHints.enabled) out.push(new InteractionHints(config.interactionHints.text));
  return out;
}
