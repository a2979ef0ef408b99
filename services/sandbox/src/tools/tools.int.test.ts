import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startTestBackend, type TestBackend } from "../internal.js";
import { PatchExtractionError, extractPatch } from "./patch.js";
import { ToolRunner, type ToolResult } from "./tool-runner.js";

const args = (o: Record<string, unknown>): string => JSON.stringify(o);
const output = (r: ToolResult): string => /<output>([\s\S]*)<\/output>$/.exec(r.observation)?.[1] ?? "";

async function hostProcessesWith(marker: string): Promise<number> {
  let n = 0;
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
      if (cmd.includes(marker) && !cmd.includes("node")) n++;
    } catch {
      // Gone while we looked.
    }
  }
  return n;
}

/** Owner, mode, mtime and content hash; content only where this (possibly non-root) test may read it. */
async function fingerprint(path: string): Promise<string> {
  const st = await stat(path);
  const content = await readFile(path).catch(() => Buffer.from("(unreadable to the test)"));
  return `${st.uid}:${st.gid}:${st.mode}:${st.mtimeMs}:${createHash("sha256").update(content).digest("hex")}`;
}

void describe("SWE tools in a bubblewrap sandbox", { timeout: 120_000 }, () => {
  let t: TestBackend;
  let runner: ToolRunner;
  let source = "";
  let host = "";
  let sandboxId = "";
  const call = (name: string, a: Record<string, unknown>, o = {}): Promise<ToolResult> =>
    runner.run(sandboxId, name, args(a), o);
  const editor = (a: Record<string, unknown>): Promise<ToolResult> => call("str_replace_editor", a);

  before(async () => {
    // A host directory outside every workspace, with a secret file and a directory.
    host = await mkdtemp(join(tmpdir(), "sluice-tools-host-"));
    await writeFile(join(host, "secret.txt"), "host secret\n");
    await mkdir(join(host, "dir"));
    await writeFile(join(host, "dir", "inside.txt"), "host dir file\n");
    await chmod(host, 0o755);
    source = await mkdtemp(join(tmpdir(), "sluice-tools-src-"));
    await mkdir(join(source, "src", "deep", "deeper"), { recursive: true });
    await mkdir(join(source, ".hidden"));
    await writeFile(join(source, "src", "app.py"), "def f():\n    return 1\n");
    await writeFile(join(source, "src", "deep", "deeper", "too-deep.txt"), "x\n");
    await writeFile(join(source, ".hidden", "x"), "x\n");
    await writeFile(join(source, "README.md"), "hello\n");
    await symlink(join(host, "secret.txt"), join(source, "secret-link"));
    await symlink("/etc/shadow", join(source, "shadow-link"));
    await symlink(join(host, "dir"), join(source, "hostdir-link"));
    t = await startTestBackend();
    runner = new ToolRunner(t.backend, { defaultTimeoutMs: 10_000, maxObservationBytes: 20_000 });
    sandboxId = (await t.backend.create({ workspaceSource: source, episodeId: "tools", env: {} })).sandboxId;
  });
  after(async () => {
    await t.cleanup();
    await rm(source, { recursive: true, force: true });
    await rm(host, { recursive: true, force: true });
  });

  void test("bash runs in /workspace with stdout and stderr in write order", async () => {
    const res = await call("bash", { command: "echo out1; echo err1 >&2; echo out2; pwd; nosuchcmd; exit 4" });
    assert.equal(res.exitCode, 4);
    assert.equal(
      res.observation,
      "<returncode>4</returncode><output>out1\nerr1\nout2\n/workspace\nbash: line 1: nosuchcmd: command not found\n</output>",
    );
    const stdin = await call("bash", { command: "cat; echo done" });
    assert.equal(output(stdin), "done\n", "stdin is empty, not a hang");
  });

  void test("only files persist between bash calls", async () => {
    await call("bash", { command: "cd src && export X=1 && echo kept > note.txt" });
    const res = await call("bash", { command: 'pwd; echo "${X:-unset}"; cat src/note.txt' });
    assert.equal(output(res), "/workspace\nunset\nkept\n");
  });

  void test("a command past its timeout is killed and reported", async () => {
    const started = Date.now();
    const res = await call("bash", { command: "echo started; sleep 86421 & sleep 86421" }, { timeoutMs: 1000 });
    assert.ok(Date.now() - started < 5_000);
    assert.equal(res.timedOut, true);
    assert.equal(res.exitCode, 137);
    assert.match(output(res), /^started\n<NOTE>The command timed out after 1 seconds and was killed/);
    const deadline = Date.now() + 3_000;
    while ((await hostProcessesWith("86421")) > 0) {
      assert.ok(Date.now() < deadline, "sleep still alive after the timeout");
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  void test("huge output keeps its head and tail with a note of what was elided", async () => {
    const total = Buffer.byteLength(Array.from({ length: 300_000 }, (_, i) => `${i + 1}\n`).join(""));
    const res = await call("bash", { command: "seq 1 300000" }, { maxObservationBytes: 2000 });
    assert.equal(res.outputTruncated, true);
    const out = output(res);
    assert.ok(out.startsWith("1\n2\n3\n"), out.slice(0, 20));
    assert.ok(out.endsWith("299999\n300000\n"));
    const m = /^\[\.\.\. (\d+) bytes \((at least )?\d+ lines\) of output elided here.*\n/m.exec(out);
    assert.ok(m, out);
    const kept = Buffer.byteLength(out.replace(m[0], ""));
    assert.equal(Number(m[1]) + kept, total);
    assert.ok(kept <= 2000);
  });

  void test("invalid calls come back invalid with a helpful observation", async () => {
    const unknown = await runner.run(sandboxId, "run_python", "{}");
    assert.equal(unknown.invalid, true);
    assert.match(output(unknown), /available tools are: bash, str_replace_editor, submit/);
    const json = await runner.run(sandboxId, "bash", '{"command": "ls"');
    assert.equal(json.invalid, true);
    assert.match(output(json), /not valid JSON \(.+\)/);
    const missing = await runner.run(
      sandboxId,
      "str_replace_editor",
      args({ command: "create", path: "/workspace/x" }),
    );
    assert.equal(missing.invalid, true);
    assert.match(output(missing), /Parameter `file_text` is required for command: create/);
  });

  void test("the editor views, creates, edits and undoes inside the workspace", async () => {
    const dir = output(await editor({ command: "view", path: "/workspace" }));
    assert.match(
      dir,
      /^Here's the files and directories up to 2 levels deep in \/workspace, excluding hidden items:\n/,
    );
    assert.ok(dir.includes("/workspace/src/app.py\n") && dir.includes("/workspace/src/deep\n"));
    assert.ok(!dir.includes(".hidden") && !dir.includes("deeper"), dir);
    const created = await editor({ command: "create", path: "/workspace/pkg/mod.py", file_text: "x = 1\ny = 2\n" });
    assert.equal(created.exitCode, 0, created.observation);
    const edited = await editor({
      command: "str_replace",
      path: "/workspace/pkg/mod.py",
      old_str: "y = 2",
      new_str: "y = 3",
    });
    assert.match(
      output(edited),
      /^The file \/workspace\/pkg\/mod.py has been edited\..*\n {5}1\tx = 1\n {5}2\ty = 3\nReview the changes/s,
    );
    const shown = await call("bash", { command: "stat -c %u pkg/mod.py; cat pkg/mod.py" });
    assert.equal(output(shown), "1000\nx = 1\ny = 3\n", "written as the sandbox user");
    await editor({ command: "undo_edit", path: "/workspace/pkg/mod.py" });
    assert.equal(output(await call("bash", { command: "cat pkg/mod.py" })), "x = 1\ny = 2\n");
    const view = await editor({ command: "view", path: "/workspace/pkg/mod.py", view_range: [2, -1] });
    assert.equal(output(view), "Here's the result of running `cat -n` on /workspace/pkg/mod.py:\n     2\ty = 2\n");
  });

  void test("a symlink escape through the editor tool is refused and leaves host files unread and unchanged", async () => {
    const before = [await fingerprint(join(host, "secret.txt")), await fingerprint("/etc/shadow")];
    // Links the agent plants itself, besides the ones in the source.
    await call("bash", { command: "ln -s /etc/shadow planted && ln -s / rootlink && ln -s .. uplink" });
    const attempts: Array<Record<string, unknown>> = [];
    for (const path of [
      "/workspace/secret-link",
      "/workspace/shadow-link",
      "/workspace/planted",
      "/workspace/rootlink/etc/shadow",
    ]) {
      attempts.push({ command: "view", path });
      attempts.push({ command: "str_replace", path, old_str: "root", new_str: "pwned" });
      attempts.push({ command: "insert", path, insert_line: 0, new_str: "pwned" });
      attempts.push({ command: "undo_edit", path });
    }
    attempts.push({ command: "view", path: "/workspace/hostdir-link" });
    attempts.push({ command: "view", path: "/workspace/hostdir-link/inside.txt" });
    attempts.push({ command: "create", path: "/workspace/hostdir-link/new.txt", file_text: "pwned" });
    attempts.push({ command: "create", path: "/workspace/uplink/escaped.txt", file_text: "pwned" });
    attempts.push({ command: "create", path: "/workspace/rootlink/tmp/escaped.txt", file_text: "pwned" });
    for (const a of attempts) {
      const res = await editor(a);
      const out = output(res);
      assert.equal(res.exitCode, 1, `${JSON.stringify(a)}: ${out}`);
      assert.equal(res.invalid, false);
      assert.match(
        out,
        /^The path \/workspace\/\S+ resolves to \/\S*, which is outside \/workspace\. Only files and directories inside \/workspace can be viewed or edited/,
        JSON.stringify(a),
      );
      assert.ok(!out.includes("host secret") && !out.includes("host dir file") && !out.includes("root:"), out);
    }
    assert.deepEqual([await fingerprint(join(host, "secret.txt")), await fingerprint("/etc/shadow")], before);
    assert.deepEqual((await readdir(join(host, "dir"))).sort(), ["inside.txt"]);
    assert.deepEqual((await readdir(host)).sort(), ["dir", "secret.txt"]);
  });
});

void describe("patch extraction in a bubblewrap sandbox", { timeout: 120_000 }, () => {
  let t: TestBackend;
  let runner: ToolRunner;
  let repo = "";
  let base = "";
  const git = (cwd: string, ...a: string[]): string =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...a], { cwd, encoding: "utf8" });

  before(async () => {
    repo = await mkdtemp(join(tmpdir(), "sluice-tools-repo-"));
    await mkdir(join(repo, "lib"));
    await mkdir(join(repo, "coverage"));
    await writeFile(join(repo, "lib", "a.js"), "module.exports = 1;\n");
    await writeFile(join(repo, "lib", "b.js"), "module.exports = 2;\n");
    await writeFile(join(repo, "logo.bin"), Buffer.from([0, 1, 2, 3, 255, 0]));
    await writeFile(join(repo, "coverage", "tracked.txt"), "tracked\n");
    git(repo, "init", "-q", "-b", "main");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "base");
    base = git(repo, "rev-parse", "HEAD").trim();
    t = await startTestBackend();
    runner = new ToolRunner(t.backend, { defaultTimeoutMs: 20_000, maxObservationBytes: 20_000 });
  });
  after(async () => {
    await t.cleanup();
    await rm(repo, { recursive: true, force: true });
  });

  async function sandbox(): Promise<string> {
    return (await t.backend.create({ workspaceSource: repo, episodeId: "patch", env: {} })).sandboxId;
  }

  void test("an untouched workspace gives an empty patch", async () => {
    const id = await sandbox();
    assert.deepEqual(await extractPatch(t.backend, id, { baseCommit: base, maxBytes: 1_000_000 }), {
      patch: "",
      tooLarge: false,
      sizeBytes: 0,
    });
  });

  void test("includes new, modified, deleted and binary files and excludes dependencies and caches", async () => {
    const id = await sandbox();
    const script = [
      "echo 'module.exports = 10;' > lib/a.js",
      "rm lib/b.js",
      "echo 'new' > lib/new.js",
      "printf '\\001\\002\\000\\377' > logo.bin",
      "printf '\\000\\001' > added.bin",
      "mkdir -p node_modules/dep sub/node_modules/x pkg/__pycache__ .cache",
      "echo dep > node_modules/dep/index.js && echo x > sub/node_modules/x/i.js && echo c > pkg/__pycache__/m.cpython-311.pyc",
      "echo c > pkg/m.pyc && echo c > .cache/x && echo ok > pkg/ok.py && echo more >> coverage/tracked.txt && echo new > coverage/new.txt",
      // The agent's own staging and commits do not change what is extracted, nor are they changed by it.
      "git -c user.name=a -c user.email=a@a add lib/a.js && git -c user.name=a -c user.email=a@a commit -qm wip && echo 'x' > staged.txt && git add staged.txt",
      // An agent ~/.gitconfig (HOME is the workspace) cannot change the patch's shape.
      "printf '[diff]\\n\\tnoprefix = true\\n' > .gitconfig && git config diff.noprefix true",
    ].join(" && ");
    const res = await runner.run(id, "bash", args({ command: script }));
    assert.equal(res.exitCode, 0, res.observation);
    const statusBefore = output(
      await runner.run(id, "bash", args({ command: "git status --porcelain; git log --oneline | wc -l" })),
    );
    const got = await extractPatch(t.backend, id, {
      baseCommit: base,
      maxBytes: 1_000_000,
      excludes: ["*.cpython-311.pyc"],
    });
    assert.equal(got.tooLarge, false);
    assert.equal(got.sizeBytes, Buffer.byteLength(got.patch));
    const files = [...got.patch.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1]).sort();
    assert.deepEqual(files, [
      ".gitconfig",
      "added.bin",
      "coverage/tracked.txt",
      "lib/a.js",
      "lib/b.js",
      "lib/new.js",
      "logo.bin",
      "pkg/ok.py",
      "staged.txt",
    ]);
    assert.match(got.patch, /^deleted file mode 100644$/m);
    assert.match(got.patch, /^GIT binary patch$/m);
    const statusAfter = output(
      await runner.run(id, "bash", args({ command: "git status --porcelain; git log --oneline | wc -l" })),
    );
    assert.equal(statusAfter, statusBefore, "the agent's index and history are left alone");

    // The patch applies to the base commit and reproduces the workspace.
    const check = await mkdtemp(join(tmpdir(), "sluice-tools-apply-"));
    try {
      execFileSync("git", ["clone", "-q", repo, check]);
      execFileSync("git", ["apply", "--binary", "-"], { cwd: check, input: got.patch });
      assert.deepEqual(await readFile(join(check, "logo.bin")), Buffer.from([1, 2, 0, 255]));
      assert.deepEqual(await readFile(join(check, "added.bin")), Buffer.from([0, 1]));
      assert.equal(await readFile(join(check, "lib", "a.js"), "utf8"), "module.exports = 10;\n");
      await assert.rejects(stat(join(check, "lib", "b.js")), /ENOENT/);
    } finally {
      await rm(check, { recursive: true, force: true });
    }
  });

  void test("flags a patch larger than the limit without returning it", async () => {
    const id = await sandbox();
    await runner.run(id, "bash", args({ command: "seq 1 5000 > big.txt" }));
    const got = await extractPatch(t.backend, id, { baseCommit: base, maxBytes: 1000 });
    assert.equal(got.tooLarge, true);
    assert.equal(got.patch, "");
    assert.ok(got.sizeBytes > 20_000, String(got.sizeBytes));
  });

  void test("a workspace whose git state is gone is an error, not an empty patch", async () => {
    const id = await sandbox();
    await runner.run(id, "bash", args({ command: "rm -rf .git" }));
    await assert.rejects(extractPatch(t.backend, id, { baseCommit: base, maxBytes: 1000 }), PatchExtractionError);
  });
});
