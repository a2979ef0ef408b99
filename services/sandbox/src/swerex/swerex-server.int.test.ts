import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { SandboxNotFoundError } from "../errors.js";
import { quietLogger, startTestBackend, type TestBackend } from "../internal.js";
import { startSwerexServer, type SwerexServer } from "./index.js";
import { HttpStatusError, SwerexRemoteError, SwerexTestClient, makeZip } from "./swerex-test-client.js";

const ADMIN_KEY = "admin-test-key";
const MAX_BODY = 64 * 1024;

/** Asserts that `p` rejects with a SWE-ReX exception of class `name` (by class_path suffix). */
async function rejectsWith(p: Promise<unknown>, name: string, message?: RegExp): Promise<SwerexRemoteError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SwerexRemoteError, `expected ${name}, got ${String(err)}`);
    assert.equal(err.name, name, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${name}, but the call succeeded`);
}

async function rawPost(url: string, key: string, body: string | Buffer, contentType = "application/json") {
  const res = await fetch(url, {
    method: "POST",
    headers: { "X-API-Key": key, "content-type": contentType },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

void describe("SWE-ReX-compatible API", { timeout: 120_000 }, () => {
  let t: TestBackend;
  let server: SwerexServer;
  let registry: Registry;
  let rex: SwerexTestClient;
  let sandboxId = "";

  const adminCreate = async (): Promise<{ sandbox_id: string; api_key: string }> => {
    const res = await rawPost(`${server.url}/sluice/sandboxes`, ADMIN_KEY, "{}");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { sandbox_id: string; api_key: string };
  };

  before(async () => {
    t = await startTestBackend({ maxSandboxes: 4 });
    registry = new Registry();
    server = await startSwerexServer({
      backend: t.backend,
      createSandbox: async () => ({
        sandboxId: (await t.backend.create({ workspaceSource: "", episodeId: "swerex", env: {} })).sandboxId,
      }),
      destroySandbox: (id) => t.backend.destroy(id),
      adminKey: ADMIN_KEY,
      logger: quietLogger(),
      registry,
      maxBodyBytes: MAX_BODY,
      maxUploadBytes: 1024 * 1024,
    });
    const created = await adminCreate();
    sandboxId = created.sandbox_id;
    rex = new SwerexTestClient(server.url, created.api_key);
  });
  after(async () => {
    await server.close();
    await t.cleanup();
  });

  void test("creates a sandbox through the admin endpoint and reports it alive", async () => {
    assert.match(sandboxId, /^sbx-/);
    assert.deepEqual(await rex.isAlive(), { is_alive: true, message: "" });
  });

  void test("refuses missing, wrong and misplaced keys with a 401", async () => {
    const none = await fetch(`${server.url}/is_alive`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { detail: "missing X-API-Key header" });
    assert.equal((await new SwerexTestClient(server.url, "wrong").isAlive()).is_alive, false);
    await assert.rejects(new SwerexTestClient(server.url, "wrong").execute({ command: ["true"] }), (e: unknown) => {
      return e instanceof HttpStatusError && e.status === 401;
    });
    const admin = await rawPost(`${server.url}/execute`, ADMIN_KEY, '{"command": ["true"]}');
    assert.equal(admin.status, 401);
    assert.match(String(admin.body.detail), /api_key/);
    const sandboxKeyOnAdmin = await rawPost(`${server.url}/sluice/sandboxes`, rex.authToken, "{}");
    assert.equal(sandboxKeyOnAdmin.status, 401);
  });

  void test("executes shell strings and argv lists like subprocess.run", async () => {
    const shell = await rex.execute({ command: "echo $HOME; echo err >&2; exit 3", shell: true });
    assert.deepEqual(shell, { stdout: "/workspace\n", stderr: "err\n", exit_code: 3 });
    const argv = await rex.execute({ command: ["printf", "%s|", "a b", "$HOME"] });
    assert.deepEqual(argv, { stdout: "a b|$HOME|", stderr: "", exit_code: 0 });
    await rex.execute({ command: ["mkdir", "-p", "work/dir"] });
    const opts = await rex.execute({
      command: 'pwd; echo "$ONLY|${HOME-nohome}"; echo e >&2',
      shell: true,
      cwd: "/workspace/work/dir",
      env: { ONLY: "x" },
      merge_output_streams: true,
    });
    assert.deepEqual(opts, { stdout: "/workspace/work/dir\nx|nohome\ne\n", stderr: "", exit_code: 0 });
    await rejectsWith(
      rex.execute({ command: ["false"], check: true, error_msg: "setup failed" }),
      "NonZeroExitCodeError",
      /^setup failed: Command \['false'\] failed with exit code 1/,
    );
    await rejectsWith(rex.execute({ command: ["sleep", "30"], timeout: 0.3 }), "CommandTimeoutError");
  });

  void test("keeps the working directory and exported variables across session calls", async () => {
    const created = await rex.createSession();
    assert.deepEqual(created, { output: "", session_type: "bash" });
    await rex.runInSession({ command: "mkdir -p pkg/src && cd pkg/src\nexport GREETING='hello world'; LOCAL=1" });
    const obs = await rex.runInSession({ command: 'pwd; echo "$GREETING|${LOCAL-unset}"; set -o pipefail' });
    assert.deepEqual(obs, {
      output: "/workspace/pkg/src\nhello world|unset\n",
      exit_code: 0,
      failure_reason: "",
      expect_string: "",
      session_type: "bash",
    });
    const later = await rex.runInSession({ command: "cd ..; unset GREETING; false | true; echo $?" });
    assert.equal(later.output, "1\n", "pipefail carried over");
    const last = await rex.runInSession({ command: 'pwd; echo "${GREETING-gone}"' });
    assert.equal(last.output, "/workspace/pkg\ngone\n");
    // Files outlive the session's commands (the workspace persists); background jobs do not.
    await rex.runInSession({ command: "(sleep 5; echo late > bg.txt) &" });
    const bg = await rex.runInSession({ command: "ls bg.txt 2>&1 || true" });
    assert.match(bg.output, /No such file/);
  });

  void test("raises NonZeroExitCodeError with check=raise and returns the code with silent", async () => {
    const err = await rejectsWith(
      rex.runInSession({ command: "echo out; exit 5", check: "raise" }),
      "NonZeroExitCodeError",
      /failed with exit code 5\. Here is the output:\n'out\\n'/,
    );
    assert.match(err.message, /^Command 'echo out; exit 5'/);
    const silent = await rex.runInSession({ command: "echo out; exit 5", check: "silent" });
    assert.equal(silent.exit_code, 5);
    assert.equal(silent.output, "out\n");
    const ignored = await rex.runInSession({ command: "exit 6", check: "ignore" });
    assert.equal(ignored.exit_code, null);
    // `exit` ended that call's shell only; the session still has its state.
    assert.equal((await rex.runInSession({ command: "pwd" })).output, "/workspace/pkg\n");
  });

  void test("maps a session timeout to CommandTimeoutError and keeps the session usable", async () => {
    const started = Date.now();
    await rejectsWith(
      rex.runInSession({ command: "cd /workspace; sleep 30", timeout: 0.5 }),
      "CommandTimeoutError",
      /timeout after 0\.5 seconds while running command/,
    );
    assert.ok(Date.now() - started < 5_000, "returned soon after the deadline");
    assert.equal((await rex.runInSession({ command: "pwd" })).output, "/workspace/pkg\n", "state before the timeout");
  });

  void test("reports syntax errors and unknown or duplicate sessions as SWE-ReX exceptions", async () => {
    const syntax = await rejectsWith(rex.runInSession({ command: "if then fi" }), "BashIncorrectSyntaxError");
    assert.match(String(syntax.extraInfo.bash_stderr), /syntax error/);
    await rejectsWith(rex.createSession(), "SessionExistsError");
    await rejectsWith(rex.runInSession({ command: "true", session: "nope" }), "SessionDoesNotExistError");
    await rex.createSession({ session: "second", startup_source: ["/workspace/profile.sh"] });
    await rex.closeSession("second");
    await rejectsWith(rex.runInSession({ command: "true", session: "second" }), "SessionDoesNotExistError");
  });

  void test("round-trips files through write_file and read_file", async () => {
    const content = "héllo\nwörld ✓\n";
    assert.deepEqual(await rex.writeFile("/workspace/notes/a.txt", content), {});
    assert.deepEqual(await rex.readFile("/workspace/notes/a.txt"), { content });
    assert.deepEqual(await rex.readFile("notes/a.txt"), { content }, "relative to /workspace");
    const seen = await rex.execute({ command: "cat notes/a.txt", shell: true });
    assert.equal(seen.stdout, content);
    await rejectsWith(rex.readFile("/workspace/missing.txt"), "FileNotFoundError");
    await rejectsWith(rex.readFile("/workspace/notes"), "IsADirectoryError");
  });

  void test("refuses paths outside /workspace", async () => {
    await rejectsWith(rex.readFile("/etc/passwd"), "PermissionError", /outside \/workspace/);
    await rejectsWith(rex.readFile("/workspace/../etc/passwd"), "PermissionError");
    await rejectsWith(rex.writeFile("/tmp/x.txt", "x"), "PermissionError");
    await rejectsWith(rex.upload(Buffer.from("x"), "x", "/root/x", false), "PermissionError");
  });

  void test("uploads a plain file and extracts a zip archive", async () => {
    await rex.upload(Buffer.from("plain\n"), "plain.txt", "/workspace/up/renamed.txt", false);
    assert.deepEqual(await rex.readFile("/workspace/up/renamed.txt"), { content: "plain\n" });
    await rex.upload(Buffer.from("into dir\n"), "inner.txt", "/workspace/up", false);
    assert.deepEqual(await rex.readFile("/workspace/up/inner.txt"), { content: "into dir\n" });
    const zip = makeZip({ "bin/tool": "#!/bin/sh\necho tool\n", "lib/deep/mod.txt": "module\n", README: "r\n" });
    assert.deepEqual(await rex.upload(zip, "zipped_transfer.zip", "/workspace/tools/bundle", true), {});
    assert.deepEqual(await rex.readFile("/workspace/tools/bundle/lib/deep/mod.txt"), { content: "module\n" });
    const listing = await rex.execute({ command: "cd tools/bundle && find . -type f | sort", shell: true });
    assert.equal(listing.stdout, "./README\n./bin/tool\n./lib/deep/mod.txt\n");
    await rejectsWith(rex.upload(Buffer.from("not a zip"), "x.zip", "/workspace/bad", true), "OSError");
  });

  void test("rejects malformed JSON, invalid fields and oversized bodies clearly", async () => {
    const bad = await rawPost(`${server.url}/execute`, rex.authToken, '{"command": ');
    assert.equal(bad.status, 422);
    const [issue] = bad.body.detail as Array<{ type: string; loc: unknown[]; msg: string }>;
    assert.equal(issue?.type, "json_invalid");
    assert.equal(issue.msg, "JSON decode error");
    const missing = await rawPost(`${server.url}/run_in_session`, rex.authToken, '{"check": "sometimes"}');
    assert.equal(missing.status, 422);
    const locs = (missing.body.detail as Array<{ loc: unknown[] }>).map((d) => d.loc.join("."));
    assert.deepEqual(locs, ["body.command", "body.check"]);
    const big = JSON.stringify({ path: "/workspace/big.txt", content: "x".repeat(MAX_BODY) });
    const tooLarge = await rawPost(`${server.url}/write_file`, rex.authToken, big);
    assert.equal(tooLarge.status, 413);
    assert.match(String(tooLarge.body.detail), new RegExp(`limit of ${MAX_BODY} bytes`));
    const unknown = await rawPost(`${server.url}/nope`, rex.authToken, "{}");
    assert.equal(unknown.status, 404);
  });

  void test("replays the reply of a repeated X-Request-ID", async () => {
    const first = await rex.request("execute", { command: "date +%N", shell: true }, "req-1");
    const again = await rex.request("execute", { command: "date +%N", shell: true }, "req-1");
    assert.deepEqual(again, first);
    const fresh = await rex.request("execute", { command: "date +%N", shell: true }, "req-2");
    assert.notDeepEqual(fresh, first);
  });

  void test("counts requests by endpoint and status", async () => {
    const metrics = await registry.metrics();
    assert.match(metrics, /sluice_sandbox_swerex_requests_total\{endpoint="\/execute",status="200"\} \d+/);
    assert.match(metrics, /sluice_sandbox_swerex_requests_total\{endpoint="\/run_in_session",status="511"\} \d+/);
    assert.match(metrics, /sluice_sandbox_swerex_requests_total\{endpoint="\/write_file",status="413"\} 1/);
  });

  void test("attaches keys to existing sandboxes and destroys them via DELETE", async () => {
    const info = await t.backend.create({ workspaceSource: "", episodeId: "grpc-made", env: {} });
    const client = new SwerexTestClient(server.url, server.issueKey(info.sandboxId));
    assert.equal((await client.execute({ command: ["pwd"] })).stdout, "/workspace\n");
    const del = await fetch(`${server.url}/sluice/sandboxes/${info.sandboxId}`, {
      method: "DELETE",
      headers: { "X-API-Key": ADMIN_KEY },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(del.status, 200);
    assert.equal((await client.isAlive()).is_alive, false, "key revoked");
    const again = await fetch(`${server.url}/sluice/sandboxes/${info.sandboxId}`, {
      method: "DELETE",
      headers: { "X-API-Key": ADMIN_KEY },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(again.status, 404);
  });

  void test("close destroys the sandbox and revokes its key", async () => {
    const live = t.backend.liveCount();
    assert.deepEqual(await rex.close(), {});
    assert.equal(t.backend.liveCount(), live - 1);
    await assert.rejects(
      t.backend.exec(sandboxId, {
        argv: ["true"],
        timeoutMs: 1000,
        stdin: new Uint8Array(),
        maxOutputBytes: 0,
        workdir: "",
      }),
      SandboxNotFoundError,
    );
    assert.equal((await rex.isAlive()).is_alive, false);
  });
});
