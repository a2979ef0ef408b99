import { createHash } from "node:crypto";

/** The annotated unit of a SWE step: its observation and action text. */
export interface StepText {
  observationText: string;
  actionText: string;
}

/** Text sent to the judge for one step. */
export function stepAnnotationText(step: StepText): string {
  return `Observation:\n${step.observationText}\n\nAction:\n${step.actionText}`;
}

/** Content hash of a text: the first `hexChars` hex digits of sha256 (a valid NATS KV key). */
export function annotationKey(text: string, hexChars = 32): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, hexChars);
}

/** Key of a step: hash of its observation and action, unambiguous about where one ends. */
export function stepAnnotationKey(step: StepText, hexChars = 32): string {
  return annotationKey(JSON.stringify([step.observationText, step.actionText]), hexChars);
}
