import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValidationError } from "@sluice/common";
import { normaliseRelativePath, resolveWorkspacePath } from "./workspace-path.js";

void test("normalises relative paths", () => {
  assert.equal(normaliseRelativePath("a//b/./c"), "a/b/c");
  assert.equal(normaliseRelativePath(""), "");
  assert.equal(normaliseRelativePath("./"), "");
});

void test("rejects absolute paths, '..' segments and NUL bytes", () => {
  for (const bad of ["/etc/passwd", "../../etc/passwd", "a/../../b", "a/..", "x\0y", "a\\..\\b"]) {
    assert.throws(() => normaliseRelativePath(bad), ValidationError, bad);
  }
});

let root = "";
let outside = "";
before(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-ws-"));
  outside = await mkdtemp(join(tmpdir(), "sluice-out-"));
  await writeFile(join(outside, "secret"), "s");
  await mkdir(join(root, "src"));
  await writeFile(join(root, "src", "a.py"), "print(1)");
  await symlink(outside, join(root, "escape"));
  await symlink(join(outside, "secret"), join(root, "secret-link"));
  await symlink("src/a.py", join(root, "inner-link"));
  await symlink(join(outside, "missing"), join(root, "dangling"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

void test("resolves existing files, directories and new files inside the workspace", async () => {
  const file = await resolveWorkspacePath(root, "src/a.py");
  assert.equal(file.exists, true);
  assert.equal(file.isDirectory, false);
  const dir = await resolveWorkspacePath(root, "src");
  assert.equal(dir.isDirectory, true);
  const fresh = await resolveWorkspacePath(root, "new/dir/file.txt");
  assert.equal(fresh.exists, false);
  assert.equal(fresh.relative, "new/dir/file.txt");
  const inner = await resolveWorkspacePath(root, "inner-link");
  assert.equal(inner.exists, true);
});

void test("rejects symlinks that resolve outside the workspace", async () => {
  await assert.rejects(resolveWorkspacePath(root, "escape/secret"), ValidationError);
  await assert.rejects(resolveWorkspacePath(root, "escape/new-file"), ValidationError);
  await assert.rejects(resolveWorkspacePath(root, "secret-link"), ValidationError);
  await assert.rejects(resolveWorkspacePath(root, "dangling"), ValidationError);
});

void test("rejects path traversal before touching the filesystem", async () => {
  await assert.rejects(resolveWorkspacePath(root, "../../etc/passwd"), ValidationError);
  await assert.rejects(resolveWorkspacePath(root, "/etc/passwd"), ValidationError);
});
