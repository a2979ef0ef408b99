// What a hostile or runaway command in a sandbox can and cannot do to the host. Each test
// states one observation from inside and checks the host side independently.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { once } from "node:events";
import { access, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { BubblewrapBackend } from "./bubblewrap-backend.js";
import {
  TEST_DEFAULTS,
  hostProcessesWith,
  quietLogger,
  startTestBackend,
  truncationMarker,
  waitUntil,
  type TestBackend,
} from "./internal.js";
import { SYSCALL_NUMBERS, seccompArch } from "./seccomp.js";

const text = (b: Uint8Array): string => Buffer.from(b).toString();
const run = (
  argv: string[],
  extra: Partial<{ timeoutMs: number; maxOutputBytes: number; stdin: Uint8Array }> = {},
) => ({
  argv,
  timeoutMs: extra.timeoutMs ?? 10_000,
  stdin: extra.stdin ?? new Uint8Array(),
  maxOutputBytes: extra.maxOutputBytes ?? 0,
  workdir: "",
});
const unique = (): string => randomUUID().slice(0, 8);
/** A sleep length nothing else on the host uses, to find the process from outside. */
const uniqueSleep = (): string => String(80_000 + Math.floor(Math.random() * 9_999));

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The sandbox's cgroup directories on the host (cgroup v1: one per controller). */
async function sandboxCgroupDirs(sandboxId: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    "find",
    ["/sys/fs/cgroup", "-maxdepth", "8", "-type", "d", "-name", sandboxId],
    { timeout: 10_000 },
  ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }));
  return stdout.split("\n").filter(Boolean);
}

async function cgroupFile(dirs: readonly string[], name: string): Promise<string | undefined> {
  for (const d of dirs) {
    try {
      return (await readFile(join(d, name), "utf8")).trim();
    } catch {
      // Not this controller's directory.
    }
  }
  return undefined;
}

void describe("sandbox containment", () => {
  let t: TestBackend;
  let sandboxId = "";
  let enforced: readonly string[] = [];

  before(async () => {
    t = await startTestBackend({ maxSandboxes: 8 });
    sandboxId = (await t.backend.create({ workspaceSource: "", episodeId: "contain", env: {} })).sandboxId;
    enforced = t.backend.capabilities();
  });
  after(async () => {
    await t.cleanup();
  });

  void test("has no network: neither the internet nor a port the host listens on", async () => {
    const connections: string[] = [];
    const server: Server = createServer((s) => {
      connections.push(String(s.remoteAddress));
      s.destroy();
    });
    server.listen(0, "0.0.0.0");
    await once(server, "listening");
    try {
      const address = server.address();
      assert.ok(address && typeof address === "object");
      const hostIp = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
      const targets = [`127.0.0.1/${address.port}`, ...(hostIp ? [`${hostIp}/${address.port}`] : []), "1.1.1.1/80"];
      for (const target of targets) {
        const res = await t.backend.exec(
          sandboxId,
          run(["bash", "-c", `exec 3<>/dev/tcp/${target} && echo connected`], { timeoutMs: 8_000 }),
        );
        assert.notEqual(res.exitCode, 0, target);
        assert.doesNotMatch(text(res.stdout), /connected/);
        assert.match(text(res.stderr), /unreachable|refused|not permitted/i, target);
      }
      const curl = await t.backend.exec(
        sandboxId,
        run(["curl", "-sS", "--max-time", "5", "http://1.1.1.1/"], { timeoutMs: 8_000 }),
      );
      assert.notEqual(curl.exitCode, 0);
      const ifaces = await t.backend.exec(sandboxId, run(["sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1"]));
      assert.equal(text(ifaces.stdout).trim(), "lo", "only the sandbox's own loopback");
      assert.deepEqual(connections, [], "the host listener saw no connection");
    } finally {
      server.close();
    }
  });

  void test("cannot write outside the workspace and leaves host files untouched", async () => {
    const name = `sluice-escape-${unique()}`;
    const hostname = await readFile("/etc/hostname", "utf8");
    for (const path of [`/usr/${name}`, `/etc/${name}`, `/${name}`, `/root/${name}`, `/workspace/../${name}`]) {
      const res = await t.backend.exec(sandboxId, run(["sh", "-c", 'echo pwned > "$1"', "sh", path]));
      assert.notEqual(res.exitCode, 0, path);
      assert.match(text(res.stderr), /Read-only file system|Permission denied|No such file|nonexistent/, path);
      assert.equal(await exists(path.replace("/workspace/..", "")), false, `host ${path}`);
    }
    const append = await t.backend.exec(sandboxId, run(["sh", "-c", "echo pwned >> /etc/hostname"]));
    assert.match(text(append.stderr), /Read-only file system|Permission denied/);
    assert.equal(await readFile("/etc/hostname", "utf8"), hostname);
    // Only the workspace and the private /tmp take writes.
    const ok = await t.backend.exec(
      sandboxId,
      run(["sh", "-c", "echo a > /workspace/a && echo b > /tmp/b && echo ok"]),
    );
    assert.equal(text(ok.stdout), "ok\n", text(ok.stderr));
  });

  void test("cannot see host files outside the system directories", async () => {
    const secret = `secret-${unique()}`;
    const hostTmp = await mkdtemp(join(tmpdir(), "sluice-secret-"));
    const repoDist = join(fileURLToPath(new URL(".", import.meta.url)), `.sluice-secret-${unique()}`);
    const files = [join("/root", `.sluice-secret-${unique()}`), join(hostTmp, "secret"), repoDist];
    try {
      for (const f of files) await writeFile(f, secret, { mode: 0o644 });
      for (const f of files) {
        const res = await t.backend.exec(sandboxId, run(["cat", f]));
        assert.notEqual(res.exitCode, 0, f);
        assert.doesNotMatch(text(res.stdout), new RegExp(secret));
        assert.match(text(res.stderr), /No such file|Permission denied/, f);
      }
      const shadow = await t.backend.exec(sandboxId, run(["cat", "/etc/shadow"]));
      assert.notEqual(shadow.exitCode, 0, "root-only host files stay unreadable");
      const procs = await t.backend.exec(sandboxId, run(["sh", "-c", `test -e /proc/${process.pid} || echo hidden`]));
      assert.equal(text(procs.stdout), "hidden\n", "host processes are not visible");
    } finally {
      await Promise.all(files.map((f) => rm(f, { force: true })));
      await rm(hostTmp, { recursive: true, force: true });
    }
  });

  void test("puts every process of a command in the sandbox's cgroup with its limits", async (ctx) => {
    if (!enforced.includes("cgroup:pids")) return ctx.skip("no cgroups on this host");
    const sb = await t.backend.create({
      workspaceSource: "",
      episodeId: "cg",
      env: {},
      limits: { memoryBytes: 300 * 1024 ** 2, maxProcesses: 40 },
    });
    const marker = uniqueSleep();
    const running = t.backend.exec(sb.sandboxId, run(["sh", "-c", `sleep ${marker} & sleep ${marker}`]));
    try {
      await waitUntil("both sleeps", 5_000, async () => (await hostProcessesWith(marker)).length >= 2);
      const dirs = await sandboxCgroupDirs(sb.sandboxId);
      assert.ok(dirs.length > 0, "the sandbox has a cgroup");
      for (const pid of await hostProcessesWith(marker)) {
        const lines = (await readFile(`/proc/${pid}/cgroup`, "utf8")).split("\n");
        for (const c of ["memory", "pids", "cpu"].filter((x) => enforced.includes(`cgroup:${x}`))) {
          const line = lines.find((l) => l.split(":")[1]?.split(",").includes(c) || l.startsWith("0::"));
          assert.ok(line?.endsWith(`/${sb.sandboxId}`), `pid ${pid} ${c}: ${line}`);
        }
      }
      assert.equal(await cgroupFile(dirs, "pids.max"), "40");
      const mem = (await cgroupFile(dirs, "memory.limit_in_bytes")) ?? (await cgroupFile(dirs, "memory.max"));
      assert.equal(mem, String(300 * 1024 ** 2));
      if (enforced.includes("cgroup:cpu")) {
        const cpu = (await cgroupFile(dirs, "cpu.cfs_quota_us")) ?? (await cgroupFile(dirs, "cpu.max"));
        assert.match(String(cpu), /^100000( 100000)?$/, "one CPU");
      }
    } finally {
      await t.backend.destroy(sb.sandboxId);
      await running;
    }
    assert.deepEqual(await sandboxCgroupDirs(sb.sandboxId), [], "destroy removes the cgroup");
  });

  void test("bounds a fork bomb by the process limit, then cleans up completely", async () => {
    const maxProcesses = 32;
    const sb = await t.backend.create({ workspaceSource: "", episodeId: "bomb", env: {}, limits: { maxProcesses } });
    const marker = `sluice-bomb-${unique()}`;
    // Every fork of the shell keeps its command line, and so the marker ($0). Each copy
    // keeps forking; bash (unlike dash) survives a failed fork, so the bomb keeps pressing
    // against the limit until the deadline.
    const bomb = t.backend.exec(
      sb.sandboxId,
      run(["bash", "-c", "b() { while :; do b & sleep 0.2; done; }; b", marker], { timeoutMs: 3_000 }),
    );
    let peak = 0;
    let settled = false;
    void bomb.finally(() => (settled = true));
    while (!settled) {
      peak = Math.max(peak, (await hostProcessesWith(marker)).length);
      await new Promise((r) => setTimeout(r, 30));
    }
    const res = await bomb;
    assert.ok(peak > 5, `the bomb ran (peak ${peak})`);
    // The limit counts the sandbox's own init and bwrap too, so never more shells than that.
    assert.ok(peak <= maxProcesses, `peak ${peak} processes, limit ${maxProcesses}`);
    assert.match(text(res.stderr), /fork/i, "forks failed at the limit");
    await waitUntil("bomb processes gone", 5_000, async () => (await hostProcessesWith(marker)).length === 0);
    const after = await t.backend.exec(sb.sandboxId, run(["echo", "alive"]));
    assert.equal(text(after.stdout), "alive\n", "the sandbox still works");
    await t.backend.destroy(sb.sandboxId);
    assert.deepEqual(await sandboxCgroupDirs(sb.sandboxId), []);
  });

  void test("kills a memory bomb inside the sandbox and reports it", async () => {
    const memoryBytes = 256 * 1024 ** 2;
    const sb = await t.backend.create({ workspaceSource: "", episodeId: "mem", env: {}, limits: { memoryBytes } });
    // Touches every page (fill), so the memory is really used, not just reserved.
    const script =
      "const k = []; for (let i = 0; i < 64; i++) { k.push(Buffer.alloc(32 << 20).fill(1)); } console.log('survived');";
    const res = await t.backend.exec(sb.sandboxId, run(["node", "-e", script], { timeoutMs: 30_000 }));
    assert.equal(res.timedOut, false);
    assert.doesNotMatch(text(res.stdout), /survived/);
    if (enforced.includes("cgroup:memory")) {
      assert.equal(res.exitCode, 128 + 9, `OOM-killed (SIGKILL): ${text(res.stderr)}`);
      const dirs = await sandboxCgroupDirs(sb.sandboxId);
      const events = (await cgroupFile(dirs, "memory.oom_control")) ?? (await cgroupFile(dirs, "memory.events"));
      assert.match(String(events), /oom_kill [1-9]/, "the OOM kill happened in the sandbox's cgroup");
    } else {
      assert.notEqual(res.exitCode, 0, "allocation failed under RLIMIT_AS");
    }
    const again = await t.backend.exec(sb.sandboxId, run(["echo", "alive"]));
    assert.equal(text(again.stdout), "alive\n");
    await t.backend.destroy(sb.sandboxId);
  });

  void test("stops a CPU-bound loop with the CPU time limit", async () => {
    const sb = await t.backend.create({ workspaceSource: "", episodeId: "cpu", env: {}, limits: { cpuSeconds: 1 } });
    const marker = `sluice-spin-${unique()}`;
    const started = Date.now();
    const res = await t.backend.exec(
      sb.sandboxId,
      run(["sh", "-c", "while :; do :; done", marker], { timeoutMs: 20_000 }),
    );
    assert.equal(res.timedOut, false);
    // Soft and hard limits are equal, so the kernel's SIGKILL at the hard limit may come
    // before (or instead of) SIGXCPU at the soft one.
    assert.ok([128 + 9, 128 + 24].includes(res.exitCode), `killed at the CPU limit: exit ${res.exitCode}`);
    assert.ok(Date.now() - started < 15_000);
    assert.deepEqual(await hostProcessesWith(marker), []);
    await t.backend.destroy(sb.sandboxId);
  });

  void test("kills a loop at the wall-clock deadline, process group and all", async () => {
    const marker = `sluice-loop-${unique()}`;
    const res = await t.backend.exec(
      sandboxId,
      run(["sh", "-c", "while :; do :; done & while :; do :; done", marker], { timeoutMs: 700 }),
    );
    assert.equal(res.timedOut, true);
    assert.equal(res.signal, "SIGKILL");
    await waitUntil("loops gone", 3_000, async () => (await hostProcessesWith(marker)).length === 0);
  });

  void test("kills a command sleeping past the deadline and its background children", async () => {
    const marker = uniqueSleep();
    const started = Date.now();
    const res = await t.backend.exec(
      sandboxId,
      run(["sh", "-c", `sleep ${marker} & sleep ${marker}`], { timeoutMs: 500 }),
    );
    assert.ok(Date.now() - started < 3_000, "returned soon after the deadline");
    assert.equal(res.timedOut, true);
    assert.equal(res.signal, "SIGKILL");
    assert.equal(res.exitCode, -1);
    await waitUntil("sleeps gone", 2_000, async () => (await hostProcessesWith(marker)).length === 0);
    const dirs = await sandboxCgroupDirs(sandboxId);
    for (const d of dirs) assert.equal((await readFile(join(d, "cgroup.procs"), "utf8")).trim(), "", d);
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

  void test("blocks dangerous syscalls with EPERM while ordinary programs work", async (ctx) => {
    const arch = seccompArch();
    if (!arch || !enforced.includes("seccomp")) return ctx.skip("seccomp not enforced here");
    const nr = SYSCALL_NUMBERS[arch];
    const status = await t.backend.exec(sandboxId, run(["grep", "^Seccomp:", "/proc/self/status"]));
    assert.match(text(status.stdout), /^Seccomp:\s+2$/m, "a seccomp filter is loaded");
    // Each of these succeeds for an unprivileged process without the filter, so EPERM
    // here is the filter's doing: ptrace(TRACEME), personality(ADDR_NO_RANDOMIZE).
    // Perl's syscall() passes strings as pointers, and only writable (variable) ones.
    const perl = (n: number | undefined, args: string): string[] => [
      "perl",
      "-e",
      `my ($s, $t, $f) = ("none", "/tmp", "tmpfs"); my $r = syscall(${String(n)}, ${args}); print $r < 0 ? "$!\\n" : "ok\\n"`,
    ];
    for (const [what, argv] of [
      ["ptrace", perl(nr.ptrace, "0, 0, 0, 0")],
      ["personality", perl(nr.personality, "0x0040000")],
      ["mount", perl(nr.mount, "$s, $t, $f, 0, 0")],
      ["keyctl", perl(nr.keyctl, "0, -3, 0")],
      ["unshare", ["unshare", "-U", "true"]],
      ["strace", ["strace", "-o", "/dev/null", "true"]],
    ] as const) {
      const res = await t.backend.exec(sandboxId, run([...argv]));
      assert.match(text(res.stdout) + text(res.stderr), /Operation not permitted/, `${what}: ${text(res.stderr)}`);
    }
    const normal = await t.backend.exec(
      sandboxId,
      run([
        "sh",
        "-c",
        'echo shell-ok; python3 -c \'import threading; t = threading.Thread(target=print, args=("thread-ok",)); t.start(); t.join()\'; node -e \'console.log(require("child_process").execFileSync("echo", ["spawn-ok"]).toString().trim())\'',
      ]),
    );
    assert.equal(text(normal.stdout), "shell-ok\nthread-ok\nspawn-ok\n", text(normal.stderr));
  });

  void test("kills sandboxed commands when the process that started them dies", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-orphan-"));
    const marker = uniqueSleep();
    const internal = new URL("./internal.js", import.meta.url).href;
    const script = join(dir, "start-sleep.mjs");
    await writeFile(
      script,
      [
        `import { startTestBackend } from ${JSON.stringify(internal)};`,
        "const t = await startTestBackend();",
        "const sb = await t.backend.create({ workspaceSource: '', episodeId: 'orphan', env: {} });",
        "console.log(JSON.stringify({ baseDir: t.baseDir }));",
        `await t.backend.exec(sb.sandboxId, { argv: ['sleep', '${marker}'], timeoutMs: 600000, stdin: new Uint8Array(), maxOutputBytes: 0, workdir: '' });`,
      ].join("\n"),
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let baseDir = "";
    try {
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      await waitUntil("the child's backend", 15_000, () => Promise.resolve(out.includes("\n")));
      baseDir = (JSON.parse(out.split("\n")[0] ?? "{}") as { baseDir: string }).baseDir;
      await waitUntil("the sandboxed sleep", 10_000, async () => (await hostProcessesWith(marker)).length > 0);
      child.kill("SIGKILL");
      await once(child, "exit");
      await waitUntil("the sandboxed sleep to die with its parent", 5_000, async () => {
        return (await hostProcessesWith(marker)).length === 0;
      });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (baseDir) {
        // A backend on the same base dir removes what the dead one left (workspace, cgroups).
        const heir = await BubblewrapBackend.create({ baseDir, defaults: TEST_DEFAULTS, logger: quietLogger() });
        assert.deepEqual(
          (await readdir(baseDir)).filter((n) => n.startsWith("sbx-")),
          [],
          "leftover workspace removed",
        );
        await heir.close();
        await rm(baseDir, { recursive: true, force: true });
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
