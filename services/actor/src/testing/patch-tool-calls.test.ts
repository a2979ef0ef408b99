import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { gitApplyCall, patchToToolCalls, splitFileDiffs, type PlannedToolCall } from "./patch-tool-calls.js";

type Files = Record<string, string | Buffer | null>;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" });
}

function writeFiles(root: string, files: Files): void {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    if (content === null) rmSync(abs, { force: true });
    else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
  }
}

function tempRepo(files: Files): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-oracle-"));
  dirs.push(dir);
  git(dir, "init", "-q", "-b", "main");
  writeFiles(dir, files);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "base", "--allow-empty");
  return dir;
}

/** The patch git itself makes for base → changed (binary, renames detected). */
function gitPatch(base: Files, change: (dir: string) => void): { patch: string; expected: string } {
  const dir = tempRepo(base);
  change(dir);
  git(dir, "add", "-A");
  return { patch: git(dir, "diff", "--cached", "--binary", "-M", "HEAD"), expected: dir };
}

/** Runs the planned calls against a copy of the base state, the way the sandbox's tools would. */
function replay(base: Files, calls: PlannedToolCall[]): string {
  const dir = tempRepo(base);
  const local = (p: string | undefined): string => join(dir, relative("/workspace", p ?? ""));
  for (const call of calls) {
    const a = call.arguments;
    if (call.name === "submit") break;
    if (call.name === "bash") {
      execFileSync("bash", ["-c", (a.command ?? "").replace("cd /workspace", `cd ${dir}`)], { stdio: "pipe" });
    } else if (a.command === "create") {
      assert.ok(!existsSync(local(a.path)), `create over an existing ${a.path}`);
      mkdirSync(dirname(local(a.path)), { recursive: true });
      writeFileSync(local(a.path), a.file_text ?? "");
    } else if (a.command === "str_replace") {
      const text = readFileSync(local(a.path), "utf8");
      const old = a.old_str ?? "";
      const count = text.split(old).length - 1;
      assert.equal(count, 1, `old_str occurs ${count} times in ${a.path}: ${JSON.stringify(old)}`);
      writeFileSync(
        local(a.path),
        text.replace(old, () => a.new_str ?? ""),
      );
    } else assert.fail(`unexpected call ${JSON.stringify(call)}`);
  }
  return dir;
}

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name === ".git") continue;
      const abs = join(d, name);
      const st = statSync(abs);
      if (st.isDirectory()) walk(abs);
      else out[relative(root, abs)] = `${(st.mode & 0o111) !== 0 ? "x:" : ""}${readFileSync(abs).toString("base64")}`;
    }
  };
  walk(root);
  return out;
}

const LINES = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join("");

const cases: Array<{ name: string; base: Files; change: (dir: string) => void; tools: string[] }> = [
  {
    name: "two hunks in one file and one in another become one str_replace each",
    base: { "a.js": LINES, "lib/b.js": "function f() {\n\treturn 1;\r\n}\n" },
    change: (d) =>
      writeFiles(d, {
        "a.js": LINES.replace("line 3\n", "line three\n").replace("line 30\n", "line 30\nadded\n"),
        "lib/b.js": "function f() {\n\treturn 2;\r\n}\n",
      }),
    tools: ["str_replace", "str_replace", "str_replace", "submit"],
  },
  {
    name: "a new text file becomes create",
    base: { "a.js": "x\n" },
    change: (d) => writeFiles(d, { "src/new.js": "export const y = 1;\n\nexport const z = 2;\n" }),
    tools: ["create", "submit"],
  },
  {
    name: "removed lines that look like diff headers are counted, not parsed",
    base: { "q.sql": "select 1;\n-- a comment\n--- not a header\n++ plus\nselect 2;\n" },
    change: (d) => writeFiles(d, { "q.sql": "select 1;\n++ plus plus\nselect 2;\n" }),
    tools: ["str_replace", "submit"],
  },
  {
    name: "a deletion goes through git apply",
    base: { "a.js": "x\n", "gone.js": "bye\n" },
    change: (d) => writeFiles(d, { "gone.js": null }),
    tools: ["bash", "submit"],
  },
  {
    name: "a rename with an edit goes through git apply",
    base: { "old.js": LINES },
    change: (d) => {
      git(d, "mv", "old.js", "new.js");
      writeFiles(d, { "new.js": LINES.replace("line 5\n", "line five\n") });
    },
    tools: ["bash", "submit"],
  },
  {
    name: "a binary change goes through git apply while text hunks still use the editor",
    base: { "img.bin": Buffer.from([0, 1, 2, 3, 255, 0]), "a.js": "a\nb\nc\n" },
    change: (d) => writeFiles(d, { "img.bin": Buffer.from([0, 9, 9, 255, 0, 7, 7]), "a.js": "a\nB\nc\n" }),
    tools: ["str_replace", "bash", "submit"],
  },
  {
    name: "a missing final newline goes through git apply",
    base: { "a.txt": "one\ntwo" },
    change: (d) => writeFiles(d, { "a.txt": "one\ntwo\nthree" }),
    tools: ["bash", "submit"],
  },
  {
    name: "an executable new file goes through git apply",
    base: { "a.js": "x\n" },
    change: (d) => {
      writeFiles(d, { "run.sh": "#!/bin/sh\necho hi\n" });
      execFileSync("chmod", ["+x", join(d, "run.sh")]);
    },
    tools: ["bash", "submit"],
  },
];

void describe("oracle: gold patch to tool calls", () => {
  for (const c of cases) {
    void it(c.name, () => {
      const { patch, expected } = gitPatch(c.base, c.change);
      const calls = patchToToolCalls(patch);
      assert.deepEqual(
        calls.map((x) => (x.name === "str_replace_editor" ? (x.arguments.command ?? "") : x.name)),
        c.tools,
      );
      assert.deepEqual(tree(replay(c.base, calls)), tree(expected));
    });
  }

  void it("anchors str_replace to whole lines so a suffix of another line cannot match", () => {
    const [call] = patchToToolCalls("diff --git a/a.js b/a.js\n--- a/a.js\n+++ b/a.js\n@@ -2,2 +2,2 @@\n x\n-y\n+z\n");
    assert.deepEqual(call?.arguments, {
      command: "str_replace",
      path: "/workspace/a.js",
      old_str: "\nx\ny\n",
      new_str: "\nx\nz\n",
    });
  });

  void it("splits plain (non-git) unified diffs by their ---/+++ headers", () => {
    const files = splitFileDiffs(
      "--- a/x.txt\n+++ b/x.txt\n@@ -1 +1 @@\n-a\n+b\n--- a/y.txt\n+++ b/y.txt\n@@ -1 +1 @@\n-c\n+d\n",
    );
    assert.deepEqual(
      files.map((f) => [f.path, f.hunks.length, f.needsGitApply]),
      [
        ["x.txt", 1, false],
        ["y.txt", 1, false],
      ],
    );
  });

  void it("picks a heredoc delimiter that does not occur in the patch", () => {
    const bash = gitApplyCall("x\nSLUICE_PATCH_EOF\ny");
    assert.equal(
      bash.arguments.command,
      "cd /workspace && git apply --whitespace=nowarn <<'SLUICE_PATCH_EOF_'\nx\nSLUICE_PATCH_EOF\ny\nSLUICE_PATCH_EOF_",
    );
  });
});
