import type { SweTask } from "@sluice/common";
import type { WireToolCall } from "../chat-types.js";
import { instanceIdFromPrompt } from "../environments/swe/prompts.js";
import { startFakeGateway, type FakeGateway, type FakeReply, type FakeScript } from "./fake-gateway.js";
import { patchToToolCalls, type PlannedToolCall } from "./patch-tool-calls.js";

/**
 * Test policies for the "swe" environment, served over the gateway's HTTP API (OpenAI
 * chat completions + the sluice token extension) so the real actor can drive them.
 */

function toWire(call: PlannedToolCall, turn: number): WireToolCall {
  return {
    id: `call_${turn}`,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  };
}

/** One tool call per turn; the action tokens stand for the rendered call, as a real model's would. */
function toolCallReply(call: PlannedToolCall, turn: number): FakeReply {
  const wire = toWire(call, turn);
  const rendered = `<tool_call>${JSON.stringify({ name: call.name, arguments: call.arguments })}</tool_call>`;
  return {
    content: null,
    toolCalls: [wire],
    finishReason: "tool_calls",
    actionTokenIds: Array.from(rendered.slice(0, 256), (ch) => ch.codePointAt(0) ?? 0),
  };
}

/**
 * Replays each task's gold `patch` as tool calls (see patchToToolCalls), then submits.
 * The task is the one named in the session's first user message.
 */
export function oracleScript(tasks: readonly SweTask[]): FakeScript {
  const byId = new Map(tasks.map((t) => [t.instance_id, t]));
  const plans = new Map<string, PlannedToolCall[]>();
  return ({ request, turn }) => {
    const first = request.messages.find((m) => m.role === "user")?.content ?? "";
    const id = instanceIdFromPrompt(first);
    const task = id === undefined ? undefined : byId.get(id);
    if (!task) return { status: 400, body: `oracle: no task named in the first user message (${JSON.stringify(id)})` };
    let plan = plans.get(task.instance_id);
    if (!plan) {
      plan = patchToToolCalls(task.patch);
      plans.set(task.instance_id, plan);
    }
    // Past the plan (the environment kept going): keep submitting.
    const call = plan[Math.min(turn, plan.length - 1)] ?? { name: "submit", arguments: {} };
    return toolCallReply(call, turn);
  };
}

/** A policy that works forever and never submits: `ls` every turn. */
export const neverSubmitScript: FakeScript = ({ turn }) =>
  toolCallReply({ name: "bash", arguments: { command: "ls" } }, turn);

export function startOracleGateway(tasks: readonly SweTask[]): Promise<FakeGateway> {
  return startFakeGateway(oracleScript(tasks));
}
