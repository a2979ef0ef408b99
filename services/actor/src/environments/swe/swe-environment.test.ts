import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { contracts, parseTaskText, validateTrajectory } from "@sluice/common";
import type { WireToolCall } from "../../chat-types.js";
import { runEpisode, type EpisodeSpec } from "../../episode-runner.js";
import { GatewayClient } from "../../gateway-client.js";
import { startFakeGateway, type FakeGateway, type FakeReply, type FakeScript } from "../../testing/fake-gateway.js";
import { startFakeSandbox, type FakeSandbox, type FakeSandboxBehaviour } from "../../testing/fake-sandbox.js";
import { rawTask, writeTaskDir } from "../../testing/swe-task-fixtures.js";
import { sweEnvironment } from "./index.js";
import { NO_TOOL_CALL_MESSAGE } from "./prompts.js";

const { FailureKind, OutcomeLevel } = contracts;
const PATCH = "diff --git a/index.js b/index.js\n--- a/index.js\n+++ b/index.js\n@@ -1 +1 @@\n-a\n+b\n";
const TASK_DIR = writeTaskDir([rawTask("npm__minimist-1")]);

const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
});

let callSeq = 0;
function call(name: string, args: Record<string, unknown> = {}): WireToolCall {
  return { id: `call_${callSeq++}`, type: "function", function: { name, arguments: JSON.stringify(args) } };
}
const bash = (command = "ls"): FakeReply => ({ content: null, toolCalls: [call("bash", { command })] });
const submit: FakeReply = { content: null, toolCalls: [call("submit")] };

/** Replies by turn; past the end, the last reply repeats. */
function scripted(replies: FakeReply[]): FakeScript {
  return ({ turn }) => replies[Math.min(turn, replies.length - 1)] ?? {};
}

interface Run {
  trajectory: contracts.Trajectory;
  sandbox: FakeSandbox;
  gw: FakeGateway;
  report: Record<string, unknown>;
}

async function run(
  script: FakeScript,
  opts: { config?: Record<string, unknown>; sandbox?: Partial<FakeSandboxBehaviour>; runnerMaxTurns?: number } = {},
): Promise<Run> {
  const sandbox = await startFakeSandbox(opts.sandbox);
  const gw = await startFakeGateway(script);
  closers.push(sandbox.close, gw.close);
  const environment = sweEnvironment.bind({ tasks: [TASK_DIR], maxTurns: 5, ...opts.config }, 7, {
    sandboxAddress: sandbox.address,
  });
  const spec: EpisodeSpec = {
    experiment: "exp",
    actorId: "actor-0",
    groupId: "actor-0-g0-abc",
    groupSize: 1,
    indexInGroup: 0,
    task: environment.taskSource.at(0),
    environment,
    admittedPolicyVersion: 0,
    seed: 0,
    maxTurns: opts.runnerMaxTurns ?? 50,
    episodeTimeoutMs: 10_000,
    sampling: { maxTokens: 16, temperature: 1, topP: 1 },
  };
  const gateway = new GatewayClient({ baseUrl: gw.url, model: "policy", requestTimeoutMs: 5_000 });
  const trajectory = await runEpisode(spec, { gateway });
  validateTrajectory(trajectory);
  const report = trajectory.verifierReportJson
    ? (JSON.parse(trajectory.verifierReportJson) as Record<string, unknown>)
    : {};
  return { trajectory, sandbox, gw, report };
}

void describe("swe environment episodes", () => {
  void it("submit grades the workspace diff as submitted and records every tool call", async () => {
    const {
      trajectory: t,
      sandbox,
      gw,
      report,
    } = await run(scripted([bash("cat index.js"), submit]), {
      sandbox: { patch: PATCH },
      config: { toolTimeoutMs: 5_000, maxObservationBytes: 4096 },
    });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE);
    assert.equal(t.doneReason, "submitted");
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED);
    assert.equal(t.outcome?.score, 1);
    assert.equal(t.outcome?.submitted, true);
    assert.equal(t.outcome?.modified, true);
    assert.equal(report.resolved, true);
    assert.equal(report.auto_submitted, false);
    assert.equal(report.done_reason, "submitted");
    assert.equal(t.turns.length, 2);
    assert.deepEqual(
      t.turns.map((turn) => turn.toolCalls.map((c) => [c.name, c.valid, c.exitCode, Number(c.elapsedMs)])),
      [[["bash", true, 0, 3]], [["submit", true, 0, 0]]],
    );
    // The task went to the service as JSON that parses back to the same task.
    const created = sandbox.created[0];
    assert.ok(created);
    assert.equal(parseTaskText(created.taskJson, "x").tasks[0]?.task.instance_id, "npm__minimist-1");
    assert.deepEqual(
      sandbox.toolCalls.map((c) => [c.sandboxId, c.toolName, c.timeoutMs, c.maxObservationBytes]),
      [
        ["sb-1", "bash", 5_000, 4096],
        ["sb-1", "submit", 5_000, 4096],
      ],
    );
    assert.deepEqual(
      sandbox.verified.map((v) => [v.patch, v.submitted]),
      [[PATCH, true]],
    );
    assert.deepEqual(sandbox.destroyed, ["sb-1"]);
    // The model saw the tools, the task and the tool's observation.
    const first = gw.requests[0];
    assert.deepEqual(
      (first?.tools as Array<{ function: { name: string } }>).map((x) => x.function.name),
      ["bash", "str_replace_editor", "submit"],
    );
    assert.match(first?.messages[1]?.content ?? "", /^Task npm__minimist-1\n[\s\S]*problem of npm__minimist-1/);
    const toolMsg = gw.requests[1]?.messages.at(-1);
    assert.equal(toolMsg?.role, "tool");
    assert.equal(toolMsg?.tool_call_id, t.turns[0]?.toolCalls[0]?.id);
    assert.match(toolMsg?.content ?? "", /<returncode>0<\/returncode>/);
  });

  void it("max_turns with a non-empty diff auto-submits it", async () => {
    const {
      trajectory: t,
      sandbox,
      report,
    } = await run(scripted([bash()]), {
      sandbox: { patch: PATCH },
      config: { maxTurns: 2 },
    });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE);
    assert.equal(t.doneReason, "max_turns");
    assert.equal(t.turns.length, 2);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED);
    assert.equal(t.outcome?.submitted, true);
    assert.equal(report.auto_submitted, true);
    assert.equal(sandbox.verified[0]?.submitted, true);
  });

  void it("max_turns with an empty diff ends NO_SUBMIT", async () => {
    const { trajectory: t, sandbox, report } = await run(scripted([bash()]), { config: { maxTurns: 2 } });
    assert.equal(t.doneReason, "max_turns");
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT);
    assert.equal(t.outcome?.submitted, false);
    assert.equal(t.outcome?.modified, false);
    assert.equal(t.outcome?.score, 0);
    assert.equal(report.auto_submitted, false);
    assert.deepEqual(
      sandbox.verified.map((v) => [v.patch, v.submitted]),
      [["", false]],
    );
  });

  void it("grades as max_turns when the rollout's turn budget ends the episode first", async () => {
    const { trajectory: t, sandbox } = await run(scripted([bash()]), {
      sandbox: { patch: PATCH },
      config: { maxTurns: 30 },
      runnerMaxTurns: 2,
    });
    assert.equal(t.doneReason, "max_turns");
    assert.equal(t.turns.length, 2);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED);
    assert.equal(sandbox.verified.length, 1);
  });

  void it("ends with format_errors after consecutive turns without a valid tool call", async () => {
    const {
      trajectory: t,
      gw,
      sandbox,
    } = await run(scripted([{ content: "I think the bug is in index.js" }]), {
      config: { maxFormatErrors: 3 },
    });
    assert.equal(t.doneReason, "format_errors");
    assert.equal(t.turns.length, 3);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT);
    assert.equal(gw.requests[1]?.messages.at(-1)?.content, NO_TOOL_CALL_MESSAGE);
    assert.equal(sandbox.toolCalls.length, 0);
  });

  void it("answers unparseable and unknown tool calls, marks them invalid, and a valid call resets the count", async () => {
    const unparsed: FakeReply = {
      content: "",
      toolCallErrors: [{ raw: '<tool_call>{"name": "bash"', error: "unterminated JSON" }],
    };
    const unknown: FakeReply = { content: null, toolCalls: [call("frobnicate", { x: 1 })] };
    const { trajectory: t, gw } = await run(scripted([unparsed, unknown, bash(), unparsed, unknown, unparsed]), {
      config: { maxFormatErrors: 3, maxTurns: 10 },
    });
    assert.equal(t.doneReason, "format_errors");
    assert.equal(t.turns.length, 6);
    const [u0, u1] = [t.turns[0]?.toolCalls[0], t.turns[1]?.toolCalls[0]];
    assert.equal(u0?.valid, false);
    assert.equal(u0?.error, "unterminated JSON");
    assert.equal(u1?.valid, false);
    assert.equal(u1?.name, "frobnicate");
    assert.match(u1?.error ?? "", /unknown tool frobnicate/);
    assert.equal(t.turns[2]?.toolCalls[0]?.valid, true);
    const afterUnparsed = gw.requests[1]?.messages.at(-1);
    assert.equal(afterUnparsed?.role, "user");
    assert.match(afterUnparsed?.content ?? "", /could not be parsed:\n- unterminated JSON/);
    const afterUnknown = gw.requests[2]?.messages.at(-1);
    assert.equal(afterUnknown?.role, "tool");
    assert.match(afterUnknown?.content ?? "", /Unknown tool frobnicate/);
  });

  void it("ends with context_limit when prompt + completion tokens reach maxContextTokens", async () => {
    const { trajectory: t, sandbox } = await run(
      ({ turn }) => ({ ...bash(), promptTokens: turn === 0 ? 100 : 1_000 }),
      {
        sandbox: { patch: PATCH },
        config: { maxContextTokens: 500 },
      },
    );
    assert.equal(t.doneReason, "context_limit");
    assert.equal(t.turns.length, 2);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED);
    assert.equal(sandbox.verified[0]?.submitted, true);
  });

  void it("ends with wall_time once the episode's time is spent, skipping the calls left", async () => {
    const reply: FakeReply = { content: null, toolCalls: [call("bash", { command: "sleep" }), call("bash")] };
    const { trajectory: t, sandbox } = await run(scripted([reply]), {
      sandbox: { runToolDelayMs: 120 },
      config: { wallTimeMs: 100 },
    });
    assert.equal(t.doneReason, "wall_time");
    assert.equal(t.turns.length, 1);
    assert.equal(sandbox.toolCalls.length, 1);
    assert.equal(t.turns[0]?.toolCalls[1]?.valid, false);
    assert.match(t.turns[0]?.toolCalls[1]?.error ?? "", /time limit/);
  });

  void it("does not run tool calls that follow submit in the same turn", async () => {
    const reply: FakeReply = { content: null, toolCalls: [call("submit"), call("bash", { command: "rm -rf ." })] };
    const { trajectory: t, sandbox } = await run(scripted([reply]), { sandbox: { patch: PATCH } });
    assert.equal(t.doneReason, "submitted");
    assert.deepEqual(
      sandbox.toolCalls.map((c) => c.toolName),
      ["submit"],
    );
    assert.match(t.turns[0]?.toolCalls[1]?.error ?? "", /ended with submit/);
  });

  void it("a failing RunTool is a SANDBOX_ERROR (masked), and the sandbox is still destroyed", async () => {
    const { trajectory: t, sandbox } = await run(scripted([bash()]), { sandbox: { fail: new Set(["runTool:2"]) } });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_SANDBOX_ERROR);
    assert.equal(t.doneReason, "sandbox_error");
    assert.match(t.failureDetail, /RunTool\(bash\).*fake runTool failure/);
    assert.equal(t.turns.length, 2);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT);
    assert.deepEqual(sandbox.destroyed, ["sb-1"]);
    assert.equal(sandbox.verified.length, 0);
  });

  void it("a failing CreateTaskSandbox is a SANDBOX_ERROR before any turn", async () => {
    const {
      trajectory: t,
      sandbox,
      gw,
    } = await run(scripted([bash()]), {
      sandbox: { fail: new Set(["createTaskSandbox"]) },
    });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_SANDBOX_ERROR);
    assert.equal(t.doneReason, "sandbox_error");
    assert.equal(t.turns.length, 0);
    assert.equal(gw.requests.length, 0);
    assert.deepEqual(sandbox.destroyed, []);
  });

  void it("a failing ExtractPatch is a SANDBOX_ERROR", async () => {
    const { trajectory: t } = await run(scripted([submit]), { sandbox: { fail: new Set(["extractPatch"]) } });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_SANDBOX_ERROR);
    assert.equal(t.doneReason, "sandbox_error");
  });

  void it("a verifier infrastructure error is a VERIFIER_ERROR that keeps the report", async () => {
    const { trajectory: t, report } = await run(scripted([submit]), {
      sandbox: {
        patch: PATCH,
        verify: {
          level: OutcomeLevel.OUTCOME_LEVEL_UNSPECIFIED,
          infrastructureError: true,
          error: "npm pack failed",
          resolved: false,
          reportJson: JSON.stringify({ infrastructure_error: true }),
        },
      },
    });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_VERIFIER_ERROR);
    assert.match(t.failureDetail, /npm pack failed/);
    assert.equal(t.doneReason, "submitted");
    assert.equal(report.infrastructure_error, true);
    assert.equal(t.outcome?.score, 0);
  });

  void it("a failing Verify RPC is a VERIFIER_ERROR", async () => {
    const { trajectory: t } = await run(scripted([submit]), { sandbox: { patch: PATCH, fail: new Set(["verify"]) } });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_VERIFIER_ERROR);
    assert.match(t.failureDetail, /Verify: .*fake verify failure/);
  });

  void it("a patch over the service's size limit is PATCH_APPLY_FAILED without verifying", async () => {
    const { trajectory: t, sandbox, report } = await run(scripted([submit]), { sandbox: { patchTooLarge: true } });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_PATCH_APPLY_FAILED);
    assert.equal(t.outcome?.modified, true);
    assert.equal(report.patch_too_large, true);
    assert.equal(sandbox.verified.length, 0);
  });

  void it("a failing DestroySandbox does not change the episode's result", async () => {
    const { trajectory: t, sandbox } = await run(scripted([submit]), {
      sandbox: { patch: PATCH, fail: new Set(["destroySandbox"]) },
    });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED);
    assert.deepEqual(sandbox.destroyed, ["sb-1"]);
  });
});
