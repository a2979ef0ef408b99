import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  CLIENT_OPTIONS,
  RpcError,
  contracts,
  insecure,
  startGrpcServer,
  unaryCall,
  type RunningGrpcServer,
} from "@sluice/common";
import { Registry } from "prom-client";
import { quietLogger, startTestBackend, type TestBackend } from "./internal.js";
import { sandboxRegistration } from "./sandbox-service.js";

let t: TestBackend;
let server: RunningGrpcServer;
let client: contracts.SandboxServiceClient;
const registry = new Registry();

before(async () => {
  t = await startTestBackend({ maxSandboxes: 2 });
  const logger = quietLogger();
  server = await startGrpcServer({
    port: 0,
    services: [sandboxRegistration({ backend: t.backend, registry, logger })],
    logger,
    registry,
  });
  client = new contracts.SandboxServiceClient(`127.0.0.1:${server.port}`, insecure(), CLIENT_OPTIONS);
});
after(async () => {
  client.close();
  await server.shutdown(1_000);
  await t.cleanup();
});

const call = <Req, Res>(
  name: string,
  fn: (r: Req, m: never, o: never, cb: (e: never, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> => unaryCall(name, fn.bind(client) as never, req, 10_000) as Promise<Res>;

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError) return err.code;
    throw err;
  }
  assert.fail("call succeeded");
}

void test("creates, runs, writes, reads and destroys a sandbox over gRPC", async () => {
  const created = await call(
    "CreateSandbox",
    client.createSandbox,
    contracts.CreateSandboxRequest.fromPartial({ episodeId: "ep" }),
  );
  assert.match(created.sandboxId, /^sbx-/);
  assert.ok(created.enforced.includes("net:none"));
  const id = created.sandboxId;
  await call(
    "WriteFile",
    client.writeFile,
    contracts.WriteFileRequest.fromPartial({ sandboxId: id, path: "a.txt", content: Buffer.from("abc") }),
  );
  const exec = await call(
    "Exec",
    client.exec,
    contracts.ExecRequest.fromPartial({
      sandboxId: id,
      argv: ["sh", "-c", "cat a.txt; echo; echo err >&2; exit 7"],
      timeoutMs: 5_000,
    }),
  );
  assert.equal(exec.exitCode, 7);
  assert.equal(Buffer.from(exec.stdout).toString(), "abc\n");
  assert.equal(Buffer.from(exec.stderr).toString(), "err\n");
  const read = await call(
    "ReadFile",
    client.readFile,
    contracts.ReadFileRequest.fromPartial({ sandboxId: id, path: "a.txt" }),
  );
  assert.equal(Buffer.from(read.content).toString(), "abc");
  await call("DestroySandbox", client.destroySandbox, { sandboxId: id });

  const metrics = await registry.metrics();
  assert.match(metrics, /sluice_sandbox_created_total 1/);
  assert.match(metrics, /sluice_sandbox_exec_total\{outcome="nonzero"\} 1/);
  assert.match(metrics, /sluice_sandbox_live 0/);
});

void test("maps errors to gRPC status codes", async () => {
  assert.equal(
    await codeOf(
      call("Exec", client.exec, contracts.ExecRequest.fromPartial({ sandboxId: "sbx-nope", argv: ["true"] })),
    ),
    5,
  );
  const a = await call("CreateSandbox", client.createSandbox, contracts.CreateSandboxRequest.fromPartial({}));
  const b = await call("CreateSandbox", client.createSandbox, contracts.CreateSandboxRequest.fromPartial({}));
  assert.equal(
    await codeOf(call("CreateSandbox", client.createSandbox, contracts.CreateSandboxRequest.fromPartial({}))),
    8,
  );
  assert.equal(
    await codeOf(
      call(
        "ReadFile",
        client.readFile,
        contracts.ReadFileRequest.fromPartial({ sandboxId: a.sandboxId, path: "../../etc/passwd" }),
      ),
    ),
    3,
  );
  assert.equal(
    await codeOf(
      call(
        "ReadFile",
        client.readFile,
        contracts.ReadFileRequest.fromPartial({ sandboxId: a.sandboxId, path: "missing" }),
      ),
    ),
    5,
  );
  await call("DestroySandbox", client.destroySandbox, { sandboxId: a.sandboxId });
  await call("DestroySandbox", client.destroySandbox, { sandboxId: b.sandboxId });
});
