import { contracts, errorMessage, passedTests, unpackInt32, type Logger } from "@sluice/common";
import type { ChatMessage } from "../chat-types.js";
import type { Task } from "../environment.js";
import { insertionSpan } from "./token-span.js";
import type { GuidanceItem, GuidanceKind, GuidanceProvider } from "./types.js";

const { FailureKind } = contracts;

/** The orchestration settings (spec.guidance). */
export interface GuidancePolicy {
  trigger: "on_fail" | "all_group_fail";
  maxRounds: number;
  /** VALIDATE: an attempt passed when its outcome score is at least this. */
  successThreshold: number;
}

/** One attempt to run: the first G have no guidance; re-attempts carry the round's message. */
export interface AttemptRequest {
  indexInGroup: number;
  round: number;
  /** Appended to the environment's reset messages (turn 0's observation). */
  guidanceMessages: ChatMessage[];
}

export type RunAttempt = (request: AttemptRequest) => Promise<contracts.Trajectory>;

export interface GuidedGroupInput {
  task: Task;
  groupSize: number;
  policy: GuidancePolicy;
  /** Run in order: environment feedback first, so teachers can quote it. */
  providers: readonly GuidanceProvider[];
  runAttempt: RunAttempt;
  logger?: Logger;
  signal?: AbortSignal;
}

/** What happened to the group, for metrics: one entry per re-attempt. */
export interface ReattemptSummary {
  round: number;
  kinds: GuidanceKind[];
  passed: boolean;
  /** Infrastructure failure: neither passed nor failed. */
  infra: boolean;
  spanKnown: boolean;
}

export interface GuidedGroupResult {
  /** First attempts then re-attempts, group_size set to the total on each. */
  trajectories: contracts.Trajectory[];
  firstAttempts: number;
  firstPassed: number;
  reattempts: ReattemptSummary[];
  /** Rounds of guidance the group went through (0 when none was triggered). */
  rounds: number;
  providerErrors: number;
}

/** VALIDATE: unit tests pass (score ≥ threshold) on an attempt without infrastructure failure. */
export const passed = passedTests;

/** A failed attempt that carries a learning signal (infra failures are never guided: nothing to say). */
function failedValidly(t: contracts.Trajectory, threshold: number): boolean {
  return t.failure === FailureKind.FAILURE_KIND_NONE && !passed(t, threshold);
}

/**
 * Agent-RLVR's loop for one task group (Da et al., arXiv 2506.11425, §3):
 *
 *   ATTEMPT ×G → VALIDATE → [trigger] GUIDE → REATTEMPT → VALIDATE → … (≤ maxRounds)
 *
 * trigger `on_fail`: each failed attempt of the previous round is guided; `all_group_fail`:
 * only when every valid first attempt failed (then each failed attempt is guided, and a
 * failed re-attempt again in later rounds). Each re-attempt is a fresh episode whose first
 * observation is the reset messages plus one guidance message built from its parent's
 * failure; it records every guidance item (kind, text, round, turn, token span).
 */
export async function runGuidedGroup(input: GuidedGroupInput): Promise<GuidedGroupResult> {
  const { policy, groupSize } = input;
  const first = await Promise.all(
    Array.from({ length: groupSize }, (_, i) => input.runAttempt({ indexInGroup: i, round: 0, guidanceMessages: [] })),
  );
  first.forEach((t) => Object.assign(t, { guidanceRound: 0 }));
  const all = [...first];
  const reattempts: ReattemptSummary[] = [];
  let providerErrors = 0;
  let rounds = 0;
  const valid = first.filter((t) => t.failure === FailureKind.FAILURE_KIND_NONE);
  const triggered =
    policy.trigger === "on_fail" || (valid.length > 0 && valid.every((t) => !passed(t, policy.successThreshold)));
  let frontier = triggered ? first.filter((t) => failedValidly(t, policy.successThreshold)) : [];
  for (let round = 1; round <= policy.maxRounds && frontier.length > 0; round++) {
    if (input.signal?.aborted) break;
    rounds = round;
    const planned = await Promise.all(
      frontier.map(async (parent) => {
        const { items, errors } = await guide(input, parent, round);
        providerErrors += errors;
        return { parent, items };
      }),
    );
    const withGuidance = planned.filter((p) => p.items.length > 0);
    const next = await Promise.all(
      withGuidance.map(async ({ parent, items }, k) => {
        const indexInGroup = all.length + k;
        const message: ChatMessage = { role: "user", content: items.map((i) => i.text).join("\n\n") };
        const t = await input.runAttempt({ indexInGroup, round, guidanceMessages: [message] });
        const root = first.find((f) => f.groupId === t.groupId && f.turns.length > 0) ?? parent;
        const spanKnown = recordGuidance(t, parent, root, items, round);
        reattempts.push({
          round,
          kinds: items.map((i) => i.kind),
          passed: passed(t, policy.successThreshold),
          infra: t.failure !== FailureKind.FAILURE_KIND_NONE,
          spanKnown,
        });
        return t;
      }),
    );
    all.push(...next);
    frontier = next.filter((t) => failedValidly(t, policy.successThreshold));
  }
  // The learner completes a group at group_size members: every member carries the final count.
  for (const t of all) t.groupSize = all.length;
  return {
    trajectories: all,
    firstAttempts: first.length,
    firstPassed: first.filter((t) => passed(t, policy.successThreshold)).length,
    reattempts,
    rounds,
    providerErrors,
  };
}

/** GUIDE: every provider in order; a failing provider is logged and skipped. */
async function guide(
  input: GuidedGroupInput,
  parent: contracts.Trajectory,
  round: number,
): Promise<{ items: GuidanceItem[]; errors: number }> {
  const items: GuidanceItem[] = [];
  let errors = 0;
  let feedback = "";
  for (const p of input.providers) {
    try {
      const item = await p.build({
        task: input.task,
        failed: parent,
        round,
        feedback,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      if (!item) continue;
      if (item.kind === "environment_feedback") feedback = item.text;
      items.push(item);
    } catch (err) {
      errors++;
      input.logger?.warn("guidance provider failed", {
        kind: p.kind,
        trajectoryId: parent.trajectoryId,
        err: errorMessage(err),
      });
    }
  }
  return { items, errors };
}

/**
 * Fills the re-attempt's guidance records. The span comes from comparing its turn-0
 * observation tokens with those of an unguided first attempt of the same task (the reset
 * messages render identically; the guidance message is the only insertion). Returns
 * whether the span is known.
 */
function recordGuidance(
  t: contracts.Trajectory,
  parent: contracts.Trajectory,
  root: contracts.Trajectory,
  items: readonly GuidanceItem[],
  round: number,
): boolean {
  const guided = t.turns[0] ? unpackInt32(t.turns[0].observationTokenIds) : undefined;
  const unguided = root.turns[0] ? unpackInt32(root.turns[0].observationTokenIds) : undefined;
  const span = guided && unguided ? insertionSpan(unguided, guided) : undefined;
  t.guidanceRound = round;
  t.guidedFromTrajectoryId = parent.trajectoryId;
  t.guidance = items.map((i) => ({
    kind: i.kind,
    text: i.text,
    source: i.source,
    round,
    injectedAtTurn: 0,
    tokenStart: span?.start ?? 0,
    tokenEnd: span?.end ?? 0,
  }));
  return span !== undefined;
}
