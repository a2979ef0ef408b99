import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { applyMutation, enumerateMutations } from "./mutations.js";
import { diffFile, diffFileSets } from "./patch.js";

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "builder-patch-test-"));
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), c);
  }
  return dir;
}

const CODE =
  "'use strict';\n\nfunction f(a, b) {\n\tif (a < b) {\n\t\treturn b;\n\t}\n\treturn a;\n}\n\nmodule.exports = f;\n";

void describe("diffFileSets", () => {
  void test("a mutation's diff is git-style, names the file on both sides, and applies with git apply and patch -p1", async () => {
    const ref = enumerateMutations("lib/f.js", CODE).find((r) => r.kind === "flip_operator");
    assert.ok(ref);
    const bugged = applyMutation(CODE, ref);
    assert.ok(bugged);
    const diff = await diffFile("lib/f.js", CODE, bugged);
    assert.match(diff, /^diff --git a\/lib\/f\.js b\/lib\/f\.js\n/);
    assert.equal(diff.split("\n").filter((l) => /^[-+][^-+]/.test(l)).length, 2, "one line out, one line in");
    const viaGit = await tree({ "lib/f.js": CODE });
    const viaPatch = await tree({ "lib/f.js": CODE });
    try {
      execFileSync("git", ["apply", "-"], { cwd: viaGit, input: diff });
      execFileSync("patch", ["-p1", "--batch"], { cwd: viaPatch, input: diff });
      assert.equal(await readFile(join(viaGit, "lib/f.js"), "utf8"), bugged);
      assert.equal(await readFile(join(viaPatch, "lib/f.js"), "utf8"), bugged);
      // And the reverse diff is the gold patch.
      execFileSync("git", ["apply", "-"], { cwd: viaGit, input: await diffFile("lib/f.js", bugged, CODE) });
      assert.equal(await readFile(join(viaGit, "lib/f.js"), "utf8"), CODE);
    } finally {
      await rm(viaGit, { recursive: true, force: true });
      await rm(viaPatch, { recursive: true, force: true });
    }
  });

  void test("covers added, deleted and changed files without renames, and is empty for equal sets", async () => {
    const before = new Map([
      ["test/a.js", "x\n"],
      ["test/old.js", "same content\n"],
    ]);
    const after = new Map([
      ["test/a.js", "y\n"],
      ["test/new.js", "same content\n"],
    ]);
    const diff = await diffFileSets(before, after);
    assert.match(diff, /diff --git a\/test\/old\.js b\/test\/old\.js\ndeleted file mode/);
    assert.match(diff, /diff --git a\/test\/new\.js b\/test\/new\.js\nnew file mode/);
    assert.doesNotMatch(diff, /rename/);
    assert.equal(await diffFileSets(before, before), "");
  });
});
