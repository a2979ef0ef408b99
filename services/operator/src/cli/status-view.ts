import type { RLExperimentStatus } from "@sluice/common";
import type { KubeObject } from "../kube/types.js";

/** `kubectl sluice status NAME`: the status block as a person reads it. */
export function formatStatus(obj: KubeObject): string {
  const s = (obj.status ?? {}) as RLExperimentStatus;
  const steps = (obj.spec as { steps?: number } | undefined)?.steps;
  const lines: string[] = [];
  lines.push(`Name:        ${obj.metadata.namespace ?? "default"}/${obj.metadata.name}`);
  lines.push(
    `Phase:       ${s.phase ?? "Unknown"}${(obj.spec as { suspend?: boolean })?.suspend ? " (suspend requested)" : ""}`,
  );
  lines.push(`Ready:       ${s.ready ?? "-"}`);
  if (s.progress) {
    const p = s.progress;
    lines.push(`Step:        ${p.step}${steps ? ` / ${steps}` : ""}`);
    lines.push(`Policy:      v${p.policyVersion}`);
    if (p.lastCheckpoint) lines.push(`Checkpoint:  step ${p.lastCheckpoint.step} at ${p.lastCheckpoint.time}`);
    if (p.updatedAt) lines.push(`Updated:     ${p.updatedAt}`);
  }
  if (s.startTime) lines.push(`Started:     ${s.startTime}`);
  if (s.completionTime) lines.push(`Finished:    ${s.completionTime}`);
  if (s.components) {
    lines.push("", "COMPONENT    READY");
    for (const [name, c] of Object.entries(s.components)) lines.push(`${name.padEnd(12)} ${c.ready}/${c.replicas}`);
  }
  if (s.conditions?.length) {
    lines.push("", "CONDITION        STATUS  REASON                MESSAGE");
    for (const c of s.conditions) {
      lines.push(`${c.type.padEnd(16)} ${c.status.padEnd(7)} ${c.reason.padEnd(21)} ${c.message}`);
    }
  }
  if (s.observedGeneration !== undefined && s.observedGeneration !== obj.metadata.generation) {
    lines.push("", `(status is of generation ${s.observedGeneration}; the spec is at ${obj.metadata.generation})`);
  }
  return lines.join("\n") + "\n";
}
