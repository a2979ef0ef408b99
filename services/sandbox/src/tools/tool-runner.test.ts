import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { SandboxNotFoundError } from "../errors.js";
import { FakeBackend } from "./fake-backend.js";
import { FileHistory } from "./file-history.js";
import { ToolRunner, type ToolResult } from "./tool-runner.js";

const SBX = "sbx-1";
const args = (o: Record<string, unknown>): string => JSON.stringify(o);
const output = (r: ToolResult): string => {
  const m = /^<returncode>(-?\d+)<\/returncode><output>([\s\S]*)<\/output>$/.exec(r.observation);
  assert.ok(m, r.observation);
  assert.equal(Number(m[1]), r.exitCode);
  return m[2] ?? "";
};

void describe("tool runner (fake backend)", () => {
  let fake: FakeBackend;
  let runner: ToolRunner;
  const editor = (o: Record<string, unknown>): Promise<ToolResult> => runner.run(SBX, "str_replace_editor", args(o));

  beforeEach(() => {
    fake = new FakeBackend();
    runner = new ToolRunner(fake, { defaultTimeoutMs: 5_000, maxObservationBytes: 10_000 });
    fake.put("src/app.py", "def f():\n    return 1\n\n\ndef g():\n    return 1\n");
    fake.put("README.md", "hello\n");
    fake.put(".git/HEAD", "ref: refs/heads/main\n");
  });

  void test("runs bash with the call's timeout and reports the exit code", async () => {
    fake.bash = (command) => ({ exitCode: 3, stdout: Buffer.from(`ran ${command}\n`) });
    const res = await runner.run(SBX, "bash", args({ command: "make" }), { timeoutMs: 1234 });
    assert.equal(res.observation, "<returncode>3</returncode><output>ran make\n</output>");
    assert.equal(res.invalid, false);
    assert.equal(res.timedOut, false);
    assert.equal(fake.execs.at(-1)?.timeoutMs, 1234);
    assert.deepEqual(fake.execs.at(-1)?.argv.slice(0, 2), ["/bin/bash", "-c"]);
  });

  void test("a timed-out command says so and reports the kill", async () => {
    fake.bash = () => ({ exitCode: -1, signal: "SIGKILL", timedOut: true, stdout: Buffer.from("partial") });
    const res = await runner.run(SBX, "bash", args({ command: "sleep 100" }), { timeoutMs: 2500 });
    assert.equal(res.timedOut, true);
    assert.equal(res.exitCode, 137);
    assert.match(output(res), /^partial\n<NOTE>The command timed out after 2\.5 seconds and was killed/);
  });

  void test("huge bash output is elided in the middle", async () => {
    const big = Array.from({ length: 5000 }, (_, i) => `row ${i}`).join("\n");
    fake.bash = () => ({ stdout: Buffer.from(big) });
    const res = await runner.run(SBX, "bash", args({ command: "seq" }), { maxObservationBytes: 300 });
    assert.equal(res.outputTruncated, true);
    const out = output(res);
    assert.ok(out.startsWith("row 0\n") && out.endsWith("row 4999"));
    assert.match(out, /\[\.\.\. \d+ bytes \(\d+ lines\) of output elided here/);
    assert.ok(Buffer.byteLength(out) < 600);
  });

  void test("invalid calls are answered, marked invalid, and run nothing", async () => {
    for (const [name, a, reason] of [
      ["grep", "{}", 'unknown tool "grep"'],
      ["bash", "{", "arguments are not valid JSON"],
      ["bash", '{"cmd":"ls"}', "missing argument command for bash"],
    ] as const) {
      const res = await runner.run(SBX, name, a);
      assert.equal(res.invalid, true, name);
      assert.equal(res.invalidReason, reason);
      assert.equal(res.exitCode, 2);
      assert.equal(res.submitted, false);
      assert.ok(output(res).length > 20);
    }
    assert.equal(fake.execs.length, 0);
  });

  void test("submit and finish mark the call submitted", async () => {
    for (const name of ["submit", "finish"]) {
      const res = await runner.run(SBX, name, "{}");
      assert.equal(res.submitted, true);
      assert.equal(res.invalid, false);
      assert.equal(res.exitCode, 0);
    }
  });

  void test("views a file with line numbers and a directory two levels deep without hidden items", async () => {
    const file = await editor({ command: "view", path: "/workspace/src/app.py", view_range: [5, 6] });
    assert.equal(
      output(file),
      "Here's the result of running `cat -n` on /workspace/src/app.py:\n     5\tdef g():\n     6\t    return 1\n",
    );
    const dir = await editor({ command: "view", path: "/workspace/" });
    assert.equal(
      output(dir),
      "Here's the files and directories up to 2 levels deep in /workspace, excluding hidden items:\n" +
        "/workspace\n/workspace/README.md\n/workspace/src\n/workspace/src/app.py\n",
    );
    const ranged = await editor({ command: "view", path: "/workspace/src", view_range: [1, 2] });
    assert.equal(ranged.exitCode, 1);
    assert.match(output(ranged), /`view_range` parameter is not allowed/);
  });

  void test("asks for absolute paths inside the workspace", async () => {
    const rel = await editor({ command: "view", path: "src/app.py" });
    assert.equal(rel.exitCode, 1);
    assert.equal(rel.invalid, false);
    assert.equal(
      output(rel),
      "The path src/app.py is not an absolute path, it should start with `/`. Maybe you meant /workspace/src/app.py?",
    );
    for (const path of ["/etc/passwd", "/workspace/../etc/passwd", "/workspacex/a"]) {
      const res = await editor({ command: "view", path });
      assert.equal(res.exitCode, 1);
      assert.match(output(res), /is outside \/workspace/, path);
    }
    const missing = await editor({ command: "view", path: "/workspace/nope.py" });
    assert.equal(output(missing), "The path /workspace/nope.py does not exist. Please provide a valid path.");
  });

  void test("refuses to follow a symlink out of the workspace", async () => {
    fake.links.set("shadow", "/etc/shadow");
    fake.links.set("up", "..");
    for (const [command, path] of [
      ["view", "/workspace/shadow"],
      ["str_replace", "/workspace/shadow"],
      ["create", "/workspace/up/new.txt"],
    ] as const) {
      const res = await editor({ command, path, old_str: "x", new_str: "y", file_text: "z" });
      assert.equal(res.exitCode, 1, command);
      assert.match(output(res), /resolves to \/(etc\/shadow|new\.txt), which is outside \/workspace/);
    }
    assert.equal(fake.files.has("new.txt"), false);
  });

  void test("create, str_replace, insert and undo_edit walk a file's history", async () => {
    const created = await editor({ command: "create", path: "/workspace/pkg/new.py", file_text: "a = 1\n" });
    assert.equal(output(created), "File created successfully at: /workspace/pkg/new.py");
    assert.equal(fake.text("pkg/new.py"), "a = 1\n");
    const again = await editor({ command: "create", path: "/workspace/pkg/new.py", file_text: "b" });
    assert.equal(
      output(again),
      "File already exists at: /workspace/pkg/new.py. Cannot overwrite files using command `create`.",
    );

    const replaced = await editor({
      command: "str_replace",
      path: "/workspace/pkg/new.py",
      old_str: "a = 1",
      new_str: "a = 2",
    });
    assert.equal(
      output(replaced),
      "The file /workspace/pkg/new.py has been edited. Here's the result of running `cat -n` on a snippet of /workspace/pkg/new.py:\n" +
        "     1\ta = 2\n" +
        "Review the changes and make sure they are as expected. Edit the file again if necessary.",
    );
    const inserted = await editor({
      command: "insert",
      path: "/workspace/pkg/new.py",
      insert_line: 1,
      new_str: "b = 3",
    });
    assert.match(output(inserted), /a snippet of the edited file:\n {5}1\ta = 2\n {5}2\tb = 3\n.*correct indentation/);
    assert.equal(fake.text("pkg/new.py"), "a = 2\nb = 3\n");

    assert.match(
      output(await editor({ command: "undo_edit", path: "/workspace/pkg/new.py" })),
      /^Last edit to \/workspace\/pkg\/new.py undone successfully\. Here's the result of running `cat -n` on \/workspace\/pkg\/new.py:\n {5}1\ta = 2\n$/,
    );
    assert.equal(fake.text("pkg/new.py"), "a = 2\n");
    await editor({ command: "undo_edit", path: "/workspace/pkg/new.py" });
    assert.equal(fake.text("pkg/new.py"), "a = 1\n");
    const removed = await editor({ command: "undo_edit", path: "/workspace/pkg/new.py" });
    assert.match(output(removed), /did not exist before it was created/);
    assert.equal(fake.files.has("pkg/new.py"), false);
    const none = await editor({ command: "undo_edit", path: "/workspace/pkg/new.py" });
    assert.equal(output(none), "No edit history found for /workspace/pkg/new.py.");
  });

  void test("str_replace reports ambiguous and absent old_str without writing", async () => {
    const many = await editor({
      command: "str_replace",
      path: "/workspace/src/app.py",
      old_str: "    return 1",
      new_str: "    return 2",
    });
    assert.equal(many.exitCode, 1);
    assert.ok(output(many).includes("Multiple occurrences of old_str `    return 1` in lines [2, 6]"), output(many));
    const none = await editor({ command: "str_replace", path: "/workspace/src/app.py", old_str: "return 3" });
    assert.match(output(none), /did not appear verbatim in \/workspace\/src\/app.py/);
    assert.equal(fake.text("src/app.py"), "def f():\n    return 1\n\n\ndef g():\n    return 1\n");
    const dir = await editor({ command: "str_replace", path: "/workspace/src", old_str: "x" });
    assert.match(output(dir), /is a directory and only the `view` command can be used on directories/);
  });

  void test("undo history is per sandbox and forgotten on request", async () => {
    await editor({ command: "str_replace", path: "/workspace/README.md", old_str: "hello", new_str: "bye" });
    const other = await fake.create({ workspaceSource: "", episodeId: "e", env: {} });
    const elsewhere = await runner.run(
      other.sandboxId,
      "str_replace_editor",
      args({ command: "undo_edit", path: "/workspace/README.md" }),
    );
    assert.match(output(elsewhere), /No edit history found/);
    runner.forget(SBX);
    const forgotten = await editor({ command: "undo_edit", path: "/workspace/README.md" });
    assert.match(output(forgotten), /No edit history found/);
  });

  void test("refuses to edit a file that is not UTF-8 or is too large to read whole", async () => {
    fake.put("bin.dat", Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    const res = await editor({ command: "str_replace", path: "/workspace/bin.dat", old_str: "A", new_str: "B" });
    assert.match(output(res), /not valid UTF-8/);
    const small = new ToolRunner(fake, {
      defaultTimeoutMs: 5_000,
      maxObservationBytes: 10_000,
      editor: { maxFileBytes: 4 },
    });
    const big = await small.run(
      SBX,
      "str_replace_editor",
      args({ command: "insert", path: "/workspace/README.md", insert_line: 0, new_str: "x" }),
    );
    assert.match(output(big), /larger than 4 bytes/);
  });

  void test("sandbox errors propagate instead of becoming observations", async () => {
    await assert.rejects(runner.run("sbx-gone", "bash", args({ command: "ls" })), SandboxNotFoundError);
    await assert.rejects(
      runner.run("sbx-gone", "str_replace_editor", args({ command: "view", path: "/workspace" })),
      SandboxNotFoundError,
    );
  });

  void test("the undo history drops its oldest entries past its byte bound", () => {
    const h = new FileHistory(10);
    h.push("/a", "123456");
    h.push("/b", null);
    h.push("/a", "7890");
    assert.equal(h.totalBytes, 10);
    h.push("/c", "xyz");
    assert.equal(h.totalBytes, 7);
    assert.deepEqual(h.pop("/a"), { content: "7890" });
    assert.equal(h.pop("/a"), undefined);
    assert.deepEqual(h.pop("/b"), { content: null });
  });
});
