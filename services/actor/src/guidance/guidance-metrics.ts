import { counter, histogram, type ServiceContext } from "@sluice/common";
import type { GuidedGroupResult } from "./guided-group.js";

type Registry = ServiceContext["registry"];

/**
 * Agent-RLVR metrics. Pass rates are ratios of these counters in PromQL:
 * initial pass rate = first_passed / first_attempts; guided pass rate of kind k =
 * reattempts{kind=k,result="passed"} / sum by (kind) reattempts{kind=k} (infra excluded).
 */
export interface GuidanceMetrics {
  record(result: GuidedGroupResult): void;
  /** Cumulative figures of this process (summaries and tests). */
  snapshot(): GuidanceSnapshot;
}

export interface GuidanceSnapshot {
  firstAttempts: number;
  firstPassed: number;
  /** Per guidance kind: re-attempts shown that kind (infra failures excluded) and those that passed. */
  byKind: Record<string, { reattempts: number; passed: number }>;
  reattempts: number;
  reattemptsPassed: number;
  groups: number;
  /** Sum of guidance rounds over groups (rounds per task = roundsTotal / groups). */
  roundsTotal: number;
  spanUnknown: number;
  providerErrors: number;
}

export function createGuidanceMetrics(registry: Registry): GuidanceMetrics {
  const first = counter(registry, "sluice_guidance_first_attempts_total", "unguided first attempts, by result", [
    "result",
  ]);
  const re = counter(
    registry,
    "sluice_guidance_reattempts_total",
    "guided re-attempts, by guidance kind shown and result (passed, failed, infra)",
    ["kind", "result"],
  );
  const rounds = histogram(
    registry,
    "sluice_guidance_rounds_per_task",
    "guidance rounds a task group went through",
    [0, 1, 2, 3, 4],
  );
  const spanUnknown = counter(
    registry,
    "sluice_guidance_span_unknown_total",
    "re-attempts whose guidance token span could not be found (they train with the guided context)",
  );
  const providerErrors = counter(registry, "sluice_guidance_provider_errors_total", "guidance providers that failed");
  const s: GuidanceSnapshot = {
    firstAttempts: 0,
    firstPassed: 0,
    byKind: {},
    reattempts: 0,
    reattemptsPassed: 0,
    groups: 0,
    roundsTotal: 0,
    spanUnknown: 0,
    providerErrors: 0,
  };
  return {
    record(r) {
      s.groups++;
      s.firstAttempts += r.firstAttempts;
      s.firstPassed += r.firstPassed;
      first.inc({ result: "passed" }, r.firstPassed);
      first.inc({ result: "failed" }, r.firstAttempts - r.firstPassed);
      s.roundsTotal += r.rounds;
      rounds.observe(r.rounds);
      s.providerErrors += r.providerErrors;
      providerErrors.inc(r.providerErrors);
      for (const a of r.reattempts) {
        const result = a.infra ? "infra" : a.passed ? "passed" : "failed";
        if (!a.spanKnown) {
          s.spanUnknown++;
          spanUnknown.inc();
        }
        if (!a.infra) {
          s.reattempts++;
          if (a.passed) s.reattemptsPassed++;
        }
        for (const kind of a.kinds) {
          re.inc({ kind, result });
          if (a.infra) continue;
          const k = (s.byKind[kind] ??= { reattempts: 0, passed: 0 });
          k.reattempts++;
          if (a.passed) k.passed++;
        }
      }
    },
    snapshot: () => structuredClone(s),
  };
}
