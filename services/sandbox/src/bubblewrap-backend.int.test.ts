import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValidationError } from "@sluice/common";
import { SandboxCapacityError, SandboxFileNotFoundError, SandboxNotFoundError } from "./errors.js";
import { startTestBackend, type TestBackend } from "./internal.js";

const enc = (s: string): Uint8Array => Buffer.from(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString();
const noStdin = new Uint8Array();
const run = (
  argv: string[],
  extra: Partial<{ timeoutMs: number; maxOutputBytes: number; stdin: Uint8Array; workdir: string }> = {},
) => ({
  argv,
  timeoutMs: extra.timeoutMs ?? 5_000,
  stdin: extra.stdin ?? noStdin,
  maxOutputBytes: extra.maxOutputBytes ?? 0,
  workdir: extra.workdir ?? "",
});

void describe("bubblewrap backend", () => {
  let t: TestBackend;
  let source = "";
  let sandboxId = "";

  before(async () => {
    source = await mkdtemp(join(tmpdir(), "sluice-src-"));
    await writeFile(join(source, "README.md"), "hello from source\n");
    t = await startTestBackend({ maxSandboxes: 4 });
    const info = await t.backend.create({ workspaceSource: source, episodeId: "ep-1", env: { SLUICE_TEST: "yes" } });
    sandboxId = info.sandboxId;
  });
  after(async () => {
    await t.cleanup();
    await rm(source, { recursive: true, force: true });
  });

  void test("reports what the host enforces", () => {
    const enforced = t.backend.capabilities();
    for (const label of [
      "ns:net",
      "net:none",
      "ns:pid",
      "uid:nonroot",
      "fs:system-readonly",
      "fs:root-readonly",
      "rlimit:fsize",
      "rlimit:nofile",
      "rlimit:cpu",
    ]) {
      assert.ok(enforced.includes(label), `${label} in ${enforced.join(",")}`);
    }
    // Memory is bounded one way or the other: the sandbox's memory cgroup, else RLIMIT_AS.
    assert.ok(enforced.includes("cgroup:memory") || enforced.includes("rlimit:as"), enforced.join(","));
    if (process.arch === "x64" || process.arch === "arm64") assert.ok(enforced.includes("seccomp"));
  });

  void test("binds extra read-only mounts and puts their bin directories on PATH", async () => {
    const deps = await mkdtemp(join(tmpdir(), "sluice-deps-"));
    try {
      // World-readable, as the environment cache makes it: the sandbox runs as nobody.
      await chmod(deps, 0o755);
      await mkdir(join(deps, ".bin"), { mode: 0o755 });
      await writeFile(join(deps, ".bin", "hello-dep"), "#!/bin/sh\necho hello from dep\n", { mode: 0o755 });
      await mkdir(join(deps, "dep-lib"), { mode: 0o755 });
      await writeFile(join(deps, "dep-lib", "index.js"), "module.exports = 42;\n", { mode: 0o644 });
      const sb = await t.backend.create({
        workspaceSource: "",
        episodeId: "mounts",
        env: {},
        mounts: [{ hostPath: deps, sandboxPath: "/node_modules" }],
        pathPrepend: ["/node_modules/.bin"],
      });
      try {
        const res = await t.backend.exec(
          sb.sandboxId,
          run(["sh", "-c", 'hello-dep; echo "$PATH"; node -e \'console.log(require("dep-lib"))\'']),
        );
        assert.equal(res.exitCode, 0, text(res.stderr));
        assert.equal(text(res.stdout), "hello from dep\n/node_modules/.bin:/usr/local/bin:/usr/bin:/bin\n42\n");
        const write = await t.backend.exec(sb.sandboxId, run(["sh", "-c", "echo x > /node_modules/evil"]));
        assert.notEqual(write.exitCode, 0);
        assert.match(text(write.stderr), /Read-only file system/);
        await assert.rejects(stat(join(deps, "evil")), /ENOENT/);
      } finally {
        await t.backend.destroy(sb.sandboxId);
      }
    } finally {
      await rm(deps, { recursive: true, force: true });
    }
  });

  void test("rejects mounts that would shadow the system, the workspace or other sandboxes", async () => {
    const create = (mounts: Array<{ hostPath: string; sandboxPath: string }>, pathPrepend: string[] = []) =>
      t.backend.create({ workspaceSource: "", episodeId: "bad-mount", env: {}, mounts, pathPrepend });
    const ok = source;
    for (const sandboxPath of [
      "/",
      "/usr",
      "/usr/lib/x",
      "/etc",
      "/proc/x",
      "/dev",
      "/tmp/x",
      "/workspace",
      "/workspace/node_modules",
      "relative",
      "/a/../usr",
      "/a/",
    ]) {
      await assert.rejects(create([{ hostPath: ok, sandboxPath }]), ValidationError, sandboxPath);
    }
    await assert.rejects(create([{ hostPath: "/nonexistent-sluice", sandboxPath: "/deps" }]), ValidationError);
    await assert.rejects(create([{ hostPath: t.baseDir, sandboxPath: "/deps" }]), ValidationError, "the base dir");
    await assert.rejects(create([{ hostPath: "/", sandboxPath: "/deps" }]), ValidationError, "an ancestor of it");
    await assert.rejects(
      create([
        { hostPath: ok, sandboxPath: "/deps" },
        { hostPath: ok, sandboxPath: "/deps" },
      ]),
      ValidationError,
    );
    if (process.getuid?.() === 0) {
      // mkdtemp makes 0700 directories: fine for root, unreachable for the sandbox uid.
      await assert.rejects(create([{ hostPath: ok, sandboxPath: "/deps" }]), /not readable by the sandbox user/);
    }
    await assert.rejects(create([], ["relative/bin"]), ValidationError);
    await assert.rejects(create([], ["/a:/b"]), ValidationError);
    assert.equal(t.backend.liveCount(), 1, "nothing was created");
  });

  void test("runs a command in a copy of the workspace source with the sandbox env", async () => {
    const res = await t.backend.exec(
      sandboxId,
      run(["sh", "-c", 'echo hi; cat README.md; echo "$SLUICE_TEST $HOME"; id -u']),
    );
    assert.equal(res.exitCode, 0, text(res.stderr));
    assert.equal(text(res.stdout), "hi\nhello from source\nyes /workspace\n1000\n");
    assert.equal(res.timedOut, false);
    assert.equal(res.signal, "");
    // The source itself is never written to.
    await t.backend.exec(sandboxId, run(["sh", "-c", "echo changed > README.md"]));
    assert.equal(await readFile(join(source, "README.md"), "utf8"), "hello from source\n");
  });

  void test("passes stdin and honours the working directory", async () => {
    await t.backend.writeFile(sandboxId, "sub/dir/keep", enc(""));
    const res = await t.backend.exec(
      sandboxId,
      run(["sh", "-c", "pwd; cat"], { stdin: enc("piped"), workdir: "sub/dir" }),
    );
    assert.equal(text(res.stdout), "/workspace/sub/dir\npiped");
    await assert.rejects(t.backend.exec(sandboxId, run(["true"], { workdir: "../.." })), ValidationError);
    await assert.rejects(t.backend.exec(sandboxId, run(["true"], { workdir: "missing" })), ValidationError);
  });

  void test("round-trips files and reads with a byte limit", async () => {
    const content = Buffer.from([0, 1, 2, 255, 10, 65]);
    await t.backend.writeFile(sandboxId, "data/bin.dat", content);
    const back = await t.backend.readFile(sandboxId, "data/bin.dat", 0);
    assert.deepEqual(Buffer.from(back.content), content);
    assert.equal(back.truncated, false);
    const part = await t.backend.readFile(sandboxId, "data/bin.dat", 4);
    assert.deepEqual(Buffer.from(part.content), content.subarray(0, 4));
    assert.equal(part.truncated, true);
    const ls = await t.backend.exec(sandboxId, run(["sh", "-c", "stat -c '%u %s' data/bin.dat"]));
    assert.equal(text(ls.stdout), "1000 6\n", "written as the sandbox user");
  });

  void test("rejects paths that leave the workspace", async () => {
    await assert.rejects(t.backend.readFile(sandboxId, "../../etc/passwd", 0), ValidationError);
    await assert.rejects(t.backend.readFile(sandboxId, "/etc/passwd", 0), ValidationError);
    await assert.rejects(t.backend.writeFile(sandboxId, "../evil", enc("x")), ValidationError);
    // A symlink planted by the command must not let host-side file ops out.
    await t.backend.exec(sandboxId, run(["ln", "-s", "/etc", "etc-link"]));
    await assert.rejects(t.backend.readFile(sandboxId, "etc-link/passwd", 0), ValidationError);
    await assert.rejects(t.backend.writeFile(sandboxId, "etc-link/evil", enc("x")), ValidationError);
    await assert.rejects(t.backend.readFile(sandboxId, "nope.txt", 0), SandboxFileNotFoundError);
  });

  void test("enforces the live sandbox bound and frees slots on destroy", async () => {
    const extra = [];
    for (let i = t.backend.liveCount(); i < 4; i++)
      extra.push(await t.backend.create({ workspaceSource: "", episodeId: `e${i}`, env: {} }));
    await assert.rejects(t.backend.create({ workspaceSource: "", episodeId: "over", env: {} }), SandboxCapacityError);
    const first = extra[0];
    assert.ok(first);
    await t.backend.destroy(first.sandboxId);
    await assert.rejects(stat(first.workspacePath), /ENOENT/);
    await assert.rejects(t.backend.exec(first.sandboxId, run(["true"])), SandboxNotFoundError);
    await assert.rejects(t.backend.destroy(first.sandboxId), SandboxNotFoundError);
    const again = await t.backend.create({ workspaceSource: "", episodeId: "again", env: {} });
    assert.ok(again.sandboxId);
  });

  void test("destroy kills commands still running in the sandbox", async () => {
    const sb = await t.backend.create({ workspaceSource: "", episodeId: "kill", env: {} }).catch(async () => {
      await t.backend.close();
      return t.backend.create({ workspaceSource: "", episodeId: "kill", env: {} });
    });
    const running = t.backend.exec(sb.sandboxId, run(["sleep", "86420"], { timeoutMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await t.backend.destroy(sb.sandboxId);
    const res = await running;
    assert.ok(Date.now() - started < 3_000);
    assert.equal(res.signal, "SIGKILL");
    assert.equal(res.timedOut, false);
  });

  void test("rejects bad create requests", async () => {
    await assert.rejects(
      t.backend.create({ workspaceSource: "relative/dir", episodeId: "x", env: {} }),
      ValidationError,
    );
    await assert.rejects(
      t.backend.create({ workspaceSource: "/nonexistent-sluice", episodeId: "x", env: {} }),
      ValidationError,
    );
    await assert.rejects(
      t.backend.create({ workspaceSource: "", episodeId: "x", env: { "A=B": "1" } }),
      ValidationError,
    );
  });
});
