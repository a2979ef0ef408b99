import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CLIENT_OPTIONS,
  RpcError,
  contracts,
  insecure,
  startGrpcServer,
  taskToJson,
  unaryCall,
  type RunningGrpcServer,
} from "@sluice/common";
import { Registry } from "prom-client";
import { quietLogger, startTestBackend, type TestBackend } from "./internal.js";
import { sandboxRegistration } from "./sandbox-service.js";
import { minimistBugTask } from "./testing/fixture-task.js";

let t: TestBackend;
let server: RunningGrpcServer;
let client: contracts.SandboxServiceClient;
let cacheDir: string;
const registry = new Registry();
const task = minimistBugTask();
const taskJson = taskToJson(task);

before(async () => {
  t = await startTestBackend({ maxSandboxes: 4 });
  cacheDir = await mkdtemp(join(tmpdir(), "sluice-swe-svc-cache-"));
  const logger = quietLogger();
  const swe = {
    cacheDir,
    tasksDir: cacheDir,
    toolTimeoutMs: 30_000,
    maxObservationBytes: 8192,
    maxPatchBytes: 1 << 20,
  };
  server = await startGrpcServer({
    port: 0,
    services: [sandboxRegistration({ backend: t.backend, registry, logger, swe })],
    logger,
    registry,
  });
  client = new contracts.SandboxServiceClient(`127.0.0.1:${server.port}`, insecure(), CLIENT_OPTIONS);
});
after(async () => {
  client.close();
  await server.shutdown(1_000);
  await t.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

const call = <Req, Res>(
  name: string,
  fn: (r: Req, m: never, o: never, cb: (e: never, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> => unaryCall(name, fn.bind(client) as never, req, 120_000) as Promise<Res>;

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError) return err.code;
    throw err;
  }
  assert.fail("call succeeded");
}

void test("an episode over gRPC: task sandbox, tools, patch, verification", async () => {
  const created = await call(
    "CreateTaskSandbox",
    client.createTaskSandbox,
    contracts.CreateTaskSandboxRequest.fromPartial({ taskJson, episodeId: "ep-1" }),
  );
  assert.match(created.baseCommit, /^[0-9a-f]{40}$/);
  assert.ok(created.enforced.includes("net:none"));
  const tool = (toolName: string, args: unknown) =>
    call(
      "RunTool",
      client.runTool,
      contracts.RunToolRequest.fromPartial({
        sandboxId: created.sandboxId,
        toolName,
        argumentsJson: typeof args === "string" ? args : JSON.stringify(args),
      }),
    );
  const ls = await tool("bash", { command: "git log --oneline | wc -l; ls test" });
  assert.match(ls.observation, /^<returncode>0<\/returncode><output>1\n/);
  assert.doesNotMatch(ls.observation, /num\.js/, "the hidden test is not in the agent's workspace");
  const bad = await tool("bash", "{not json");
  assert.equal(bad.invalid, true);
  const edit = await tool("str_replace_editor", {
    command: "str_replace",
    path: "/workspace/index.js",
    old_str: "if ((/^0x[0-9a-f]+$/i).test(x)) { return false; }",
    new_str: "if ((/^0x[0-9a-f]+$/i).test(x)) { return true; }",
  });
  assert.equal(edit.invalid, false);
  assert.match(edit.observation, /has been edited/);
  const submitted = await tool("finish", {});
  assert.equal(submitted.submitted, true);
  const patch = await call(
    "ExtractPatch",
    client.extractPatch,
    contracts.ExtractPatchRequest.fromPartial({ sandboxId: created.sandboxId }),
  );
  assert.match(patch.patch, /^diff --git a\/index.js b\/index.js/);
  await call("DestroySandbox", client.destroySandbox, { sandboxId: created.sandboxId });
  const verdict = await call(
    "Verify",
    client.verify,
    contracts.VerifyRequest.fromPartial({ taskJson, patch: patch.patch, submitted: true, episodeId: "ep-1" }),
  );
  assert.equal(verdict.level, contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED, verdict.error);
  assert.equal(verdict.resolved, true);
  const report = JSON.parse(verdict.reportJson) as { tests_status: { FAIL_TO_PASS: { success: string[] } } };
  assert.deepEqual(report.tests_status.FAIL_TO_PASS.success, ["test/num.js::nums"]);
  const metrics = await registry.metrics();
  assert.match(metrics, /sluice_sandbox_verifications_total\{level="RESOLVED"\} 1/);
  assert.match(metrics, /sluice_sandbox_tool_calls_total\{tool="bash",result="invalid"\} 1/);
});

void test("malformed tasks and unknown sandboxes are clear errors", async () => {
  const broken = JSON.stringify({ ...JSON.parse(taskJson), FAIL_TO_PASS: "not a list" });
  try {
    await call(
      "CreateTaskSandbox",
      client.createTaskSandbox,
      contracts.CreateTaskSandboxRequest.fromPartial({ taskJson: broken }),
    );
    assert.fail("accepted a malformed task");
  } catch (err) {
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, 3);
    assert.match(err.message, /FAIL_TO_PASS/);
    assert.match(err.message, /minimist__1.2.8.test-hex/);
  }
  assert.equal(
    await codeOf(
      call("ExtractPatch", client.extractPatch, contracts.ExtractPatchRequest.fromPartial({ sandboxId: "sbx-nope" })),
    ),
    5,
  );
  assert.equal(
    await codeOf(
      call(
        "RunTool",
        client.runTool,
        contracts.RunToolRequest.fromPartial({
          sandboxId: "sbx-nope",
          toolName: "bash",
          argumentsJson: '{"command":"ls"}',
        }),
      ),
    ),
    5,
  );
});
