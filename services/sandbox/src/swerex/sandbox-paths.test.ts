import { test } from "node:test";
import assert from "node:assert/strict";
import { SwerexException } from "./errors.js";
import { inSandbox, toWorkspaceRelative } from "./sandbox-paths.js";

void test("maps in-sandbox paths under /workspace to workspace-relative ones", () => {
  assert.equal(toWorkspaceRelative("/workspace"), "");
  assert.equal(toWorkspaceRelative("/workspace/"), "");
  assert.equal(toWorkspaceRelative("/workspace/a//b/./c.txt"), "a/b/c.txt");
  assert.equal(toWorkspaceRelative("src/x.py"), "src/x.py", "relative to /workspace, where commands start");
  assert.equal(toWorkspaceRelative("/workspace/a/../b"), "b");
  assert.equal(inSandbox(""), "/workspace");
  assert.equal(inSandbox("a/b"), "/workspace/a/b");
});

void test("refuses paths that leave /workspace as PermissionError", () => {
  for (const bad of ["/etc/passwd", "/workspace/../etc/passwd", "../x", "/workspacex/y", "/tmp/a", "/"]) {
    assert.throws(
      () => toWorkspaceRelative(bad),
      (e: unknown) => e instanceof SwerexException && e.classPath === "builtins.PermissionError",
      bad,
    );
  }
  assert.throws(() => toWorkspaceRelative("/workspace/a\0b"), SwerexException);
});
