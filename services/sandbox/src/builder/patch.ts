// Git-style diffs between two versions of a few files, made by git itself so they apply with
// `git apply` and `patch -p1` alike (no rename detection: patch(1) cannot apply renames).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DETERMINISTIC_GIT_ENV } from "../environments/git.js";
import { runHostCommand } from "../environments/host-command.js";

const GIT_TIMEOUT_MS = 60_000;

/** path -> content; a path missing on one side is an added or deleted file. */
export type FileSet = ReadonlyMap<string, string>;

/**
 * `diff --git a/<path> b/<path>` text turning `before` into `after` ("" when equal). Paths are
 * workspace-relative. Both sides are written as git trees in a scratch repository and
 * compared tree to tree, so nothing else on disk can leak into the diff.
 */
export async function diffFileSets(before: FileSet, after: FileSet): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-diff-"));
  const gitDir = join(dir, "repo.git");
  const git = async (args: string[], workTree = dir): Promise<string> =>
    (
      await runHostCommand("git", args, {
        cwd: workTree,
        timeoutMs: GIT_TIMEOUT_MS,
        env: { ...DETERMINISTIC_GIT_ENV, GIT_DIR: gitDir, GIT_WORK_TREE: workTree },
      })
    ).stdout;
  const writeTree = async (files: FileSet, name: string): Promise<string> => {
    const root = join(dir, name);
    for (const [path, content] of files) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
    await mkdir(root, { recursive: true });
    await git(["add", "-A", "."], root);
    const tree = (await git(["write-tree"])).trim();
    await git(["read-tree", "--empty"]);
    return tree;
  };
  try {
    await git(["init", "--quiet", "--template="]);
    const a = await writeTree(before, "before");
    const b = await writeTree(after, "after");
    return await git(["diff", "--no-color", "--no-ext-diff", "--no-renames", "--full-index", a, b]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One file changed from `before` to `after`. */
export function diffFile(path: string, before: string, after: string): Promise<string> {
  return diffFileSets(new Map([[path, before]]), new Map([[path, after]]));
}
