import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValidationError } from "@sluice/common";
import { SandboxCapacityError, SandboxFileNotFoundError, SandboxNotFoundError } from "./errors.js";
import { startTestBackend, truncationMarker, type TestBackend } from "./internal.js";

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

/** Processes on the host whose command line contains `marker` (e.g. a unique sleep length). */
async function hostProcessesWith(marker: string): Promise<number> {
  let n = 0;
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
      if (cmd.includes(marker) && !cmd.includes("node")) n++;
    } catch {
      // Process went away while we looked.
    }
  }
  return n;
}

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
      "rlimit:as",
      "rlimit:fsize",
      "rlimit:nofile",
      "rlimit:cpu",
    ]) {
      assert.ok(enforced.includes(label), `${label} in ${enforced.join(",")}`);
    }
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

  void test("cannot write outside the workspace or reach the network", async () => {
    const ro = await t.backend.exec(sandboxId, run(["sh", "-c", "touch /usr/x || touch /etc/x || exit 3"]));
    assert.equal(ro.exitCode, 3);
    const net = await t.backend.exec(sandboxId, run(["bash", "-c", "exec 3<>/dev/tcp/1.1.1.1/80"]));
    assert.notEqual(net.exitCode, 0);
    assert.match(text(net.stderr), /unreachable|refused|not permitted/i);
    const secret = await t.backend.exec(sandboxId, run(["cat", "/etc/shadow"]));
    assert.notEqual(secret.exitCode, 0, "root-only host files stay unreadable");
  });

  void test("kills a command and its background children at the deadline", async () => {
    const started = Date.now();
    const res = await t.backend.exec(sandboxId, run(["sh", "-c", "sleep 97531 & sleep 97531"], { timeoutMs: 500 }));
    assert.ok(Date.now() - started < 3_000, "returned soon after the deadline");
    assert.equal(res.timedOut, true);
    assert.equal(res.signal, "SIGKILL");
    assert.equal(res.exitCode, -1);
    const deadline = Date.now() + 2_000;
    while ((await hostProcessesWith("97531")) > 0) {
      assert.ok(Date.now() < deadline, "sleep processes still alive after the timeout");
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  void test("caps huge output keeping head and tail", async () => {
    const res = await t.backend.exec(
      sandboxId,
      run(["sh", "-c", "echo START; head -c 2000000 /dev/zero | tr '\\0' x; echo; echo END"], { maxOutputBytes: 1000 }),
    );
    const out = text(res.stdout);
    assert.equal(res.outputTruncated, true);
    assert.ok(out.startsWith("START\nxxx"));
    assert.ok(out.endsWith("xxx\nEND\n"));
    assert.ok(out.includes(truncationMarker(2_000_011 - 1000)), out.slice(490, 560));
  });

  void test("contains a fork bomb with the process limit", async () => {
    if (!t.backend.capabilities().includes("rlimit:nproc")) return;
    // 200 background sleeps against a limit of 64: the shell runs out of forks and gives up
    // long before the deadline, and the namespace takes the survivors with it.
    const res = await t.backend.exec(
      sandboxId,
      run(["sh", "-c", "for i in $(seq 200); do sleep 5 & done; echo all-spawned"], { timeoutMs: 4_000 }),
    );
    assert.equal(res.timedOut, false);
    assert.doesNotMatch(text(res.stdout), /all-spawned/);
    assert.match(text(res.stderr), /fork/i);
    const limits = await t.backend.exec(sandboxId, run(["grep", "^Max processes", "/proc/self/limits"]));
    assert.match(text(limits.stdout), /^Max processes\s+64\s+64/);
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
