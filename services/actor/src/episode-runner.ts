import { randomBytes } from "node:crypto";
import { contracts, errorMessage, type Logger } from "@sluice/common";
import { raceAbort } from "./abortable.js";
import type { ChatMessage, ToolSchema } from "./chat-types.js";
import type { BoundEnvironment, Environment, EpisodeOutcome, Task, ToolCallResult } from "./environment.js";
import {
  EnvironmentInfraError,
  EpisodeAbortedError,
  GatewayHttpError,
  GatewayProtocolError,
  GatewayTransportError,
} from "./errors.js";
import type { ChatCompleter, Completion } from "./gateway-client.js";
import { NO_OUTCOME, toProtoOutcome } from "./outcome-codec.js";
import { mixSeed } from "@sluice/common";

const { FailureKind } = contracts;

export interface SamplingParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Partial rollouts: a weight update may interrupt a generation, which resumes under the new weights. */
  interruptible?: boolean;
}

export interface EpisodeSpec {
  experiment: string;
  actorId: string;
  groupId: string;
  groupSize: number;
  indexInGroup: number;
  task: Task;
  environment: BoundEnvironment;
  admittedPolicyVersion: number;
  maxTurns: number;
  episodeTimeoutMs: number;
  sampling: SamplingParams;
  /** Seed of the episode's sampling requests (turn t sends mixSeed(seed, t)); 0 = unseeded. */
  seed: number;
  /**
   * Agent-RLVR re-attempt: messages appended to the environment's reset messages, so they
   * are part of turn 0's observation (guidance/guided-group.ts records them).
   */
  guidanceMessages?: ChatMessage[];
}

/** The seed of one episode: a pure function of the experiment seed, group ordinal and member. */
export function episodeSeed(experimentSeed: number, groupOrdinal: number, indexInGroup: number): number {
  return mixSeed(mixSeed(experimentSeed, groupOrdinal), indexInGroup) || 1;
}

function turnSeed(seed: number, turn: number): number {
  return seed === 0 ? 0 : mixSeed(seed, turn) || 1;
}

export interface EpisodeDeps {
  gateway: ChatCompleter;
  logger?: Logger;
  /** Shutdown: an aborted episode throws EpisodeAbortedError instead of returning data. */
  signal?: AbortSignal;
  now?: () => number;
}

/** Time allowed for freeing the gateway session after the episode, whatever happened. */
const SESSION_DELETE_TIMEOUT_MS = 2_000;

export function trajectoryIdOf(groupId: string, indexInGroup: number): string {
  return `${groupId}-${indexInGroup}`;
}

/**
 * Runs one episode against the gateway and returns its Trajectory. Infrastructure
 * failures (inference errors, the episode deadline, token prefix mismatches) travel as
 * data: the trajectory carries the failure kind and the turns so far, and the learner
 * masks it rather than scoring it as zero. Only shutdown throws.
 */
export async function runEpisode(spec: EpisodeSpec, deps: EpisodeDeps): Promise<contracts.Trajectory> {
  const now = deps.now ?? Date.now;
  const trajectoryId = trajectoryIdOf(spec.groupId, spec.indexInGroup);
  // One gateway session per attempt: a slot run again reuses trajectory ids (see groupIdOf), and
  // must not continue the token stream of a dead actor's session.
  const sessionId = `${trajectoryId}.${randomBytes(4).toString("hex")}`;
  const createdAtMs = now();
  const deadline = AbortSignal.timeout(spec.episodeTimeoutMs);
  const signal = deps.signal ? AbortSignal.any([deps.signal, deadline]) : deadline;
  const turns: contracts.Turn[] = [];
  const metadata: Record<string, string> = {};
  let failure = FailureKind.FAILURE_KIND_NONE;
  let failureDetail = "";
  let env: Environment | undefined;
  let outcome: EpisodeOutcome = NO_OUTCOME;

  try {
    env = spec.environment.create(spec.task);
    const reset = await raceAbort(env.reset(), signal);
    const messages: ChatMessage[] = [...reset.messages, ...(spec.guidanceMessages ?? [])];
    const tools: ToolSchema[] | undefined = reset.tools;
    let observation = messages.slice();
    let done = false;
    while (!done && turns.length < spec.maxTurns) {
      const startedAtMs = now();
      const c = await deps.gateway.complete(
        {
          messages,
          ...(tools ? { tools } : {}),
          ...spec.sampling,
          seed: turnSeed(spec.seed, turns.length),
          sessionId,
        },
        signal,
      );
      const turn = toTurn(c, observation, startedAtMs, now());
      turns.push(turn);
      if (!c.prefixOk) {
        // The turn's tokens no longer concatenate to the session's stream: unusable for training.
        failure = FailureKind.FAILURE_KIND_TOKENIZATION_MISMATCH;
        failureDetail = `gateway prefix mismatch at turn ${turns.length - 1}: ${c.prefixMismatchReason ?? "no reason given"}`;
        break;
      }
      messages.push({
        role: "assistant",
        content: c.content,
        ...(c.toolCalls.length ? { tool_calls: c.toolCalls } : {}),
      });
      const step = await raceAbort(
        env.step({
          content: c.content,
          toolCalls: c.toolCalls,
          invalidToolCalls: c.invalidToolCalls,
          ...(c.usage ? { usage: c.usage } : {}),
        }),
        signal,
      );
      recordToolResults(turn, step.toolResults);
      messages.push(...step.messages);
      observation = step.messages;
      done = step.done;
    }
    if (!done && failure === FailureKind.FAILURE_KIND_NONE) {
      metadata.truncated = "max_turns";
      // The runner's turn budget ended the episode: let the environment grade what there is.
      if (env.finish) await raceAbort(env.finish("max_turns"), signal);
    }
  } catch (err) {
    if (deps.signal?.aborted) {
      await cleanup(env, sessionId, deps);
      throw new EpisodeAbortedError(trajectoryId);
    }
    [failure, failureDetail] = classifyFailure(err, deadline.aborted, spec.episodeTimeoutMs);
    deps.logger?.warn("episode failed", {
      trajectoryId,
      failure: contracts.failureKindToJSON(failure),
      err: failureDetail,
    });
  }
  if (env) {
    try {
      outcome = env.outcome();
    } catch (err) {
      outcome = { ...NO_OUTCOME, detail: `environment outcome failed: ${errorMessage(err)}` };
    }
  }
  await cleanup(env, sessionId, deps);

  return {
    trajectoryId,
    experiment: spec.experiment,
    taskId: spec.task.id,
    groupId: spec.groupId,
    groupSize: spec.groupSize,
    indexInGroup: spec.indexInGroup,
    actorId: spec.actorId,
    environment: spec.environment.name,
    turns,
    outcome: toProtoOutcome(outcome, turns.length),
    failure,
    failureDetail,
    admittedPolicyVersion: spec.admittedPolicyVersion,
    guidance: [],
    doneReason: outcome.doneReason ?? "",
    verifierReportJson: outcome.verifierReportJson ?? "",
    createdAtMs,
    finishedAtMs: now(),
    metadata,
  };
}

function toTurn(c: Completion, observation: ChatMessage[], startedAtMs: number, finishedAtMs: number): contracts.Turn {
  return {
    observationTokenIds: c.observationTokenIds,
    actionTokenIds: c.actionTokenIds,
    actionLogprobs: c.actionLogprobs,
    actionPolicyVersions: c.actionPolicyVersions,
    actionLossMask: new Uint8Array(0),
    observationText: observation.map((m) => m.content ?? "").join("\n"),
    actionText: c.content ?? "",
    toolCalls: [
      ...c.toolCalls.map((tc) => ({
        id: tc.id,
        name: tc.function.name,
        argumentsJson: tc.function.arguments,
        valid: true,
        error: "",
        exitCode: 0,
        outputTruncated: false,
        elapsedMs: 0,
      })),
      ...c.invalidToolCalls.map((bad) => ({
        id: "",
        name: "",
        argumentsJson: bad.raw,
        valid: false,
        error: bad.error,
        exitCode: 0,
        outputTruncated: false,
        elapsedMs: 0,
      })),
    ],
    finishReason: c.finishReason,
    startedAtMs,
    finishedAtMs,
  };
}

/** The environment's per-call results, aligned with the turn's parsed (first) tool calls. */
function recordToolResults(turn: contracts.Turn, results: ToolCallResult[] | undefined): void {
  results?.forEach((r, i) => {
    const call = turn.toolCalls[i];
    if (!call || !call.valid) return;
    Object.assign(call, {
      valid: r.valid,
      error: r.error,
      exitCode: r.exitCode,
      outputTruncated: r.outputTruncated,
      elapsedMs: r.elapsedMs,
    });
  });
}

function classifyFailure(err: unknown, timedOut: boolean, timeoutMs: number): [contracts.FailureKind, string] {
  if (timedOut) return [FailureKind.FAILURE_KIND_HARNESS_TIMEOUT, `episode exceeded its ${timeoutMs} ms deadline`];
  if (err instanceof EnvironmentInfraError) return [err.failureKind, err.message];
  if (err instanceof GatewayHttpError || err instanceof GatewayTransportError || err instanceof GatewayProtocolError) {
    return [FailureKind.FAILURE_KIND_INFERENCE_ERROR, err.message];
  }
  // Anything else came from the environment itself (its tools, its sandbox).
  return [FailureKind.FAILURE_KIND_SANDBOX_ERROR, `environment error: ${errorMessage(err)}`];
}

async function cleanup(env: Environment | undefined, sessionId: string, deps: EpisodeDeps): Promise<void> {
  try {
    await env?.close();
  } catch (err) {
    deps.logger?.warn("environment close failed", { sessionId, err: errorMessage(err) });
  }
  try {
    await deps.gateway.deleteSession(sessionId, AbortSignal.timeout(SESSION_DELETE_TIMEOUT_MS));
  } catch (err) {
    // Idle sessions expire in the gateway; a failed delete only costs memory there.
    deps.logger?.debug("session delete failed", { sessionId, err: errorMessage(err) });
  }
}
