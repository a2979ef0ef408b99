import { realpath, lstat } from "node:fs/promises";
import { isAbsolute, join, normalize, sep } from "node:path";
import { ValidationError } from "@sluice/common";

/**
 * Checks a caller-supplied workspace-relative path lexically: relative, no `..` segment,
 * no NUL. Returns it normalised with "/" separators ("" for the workspace root).
 */
export function normaliseRelativePath(path: string, what = "path"): string {
  if (path.includes("\0")) throw new ValidationError(`${what} contains a NUL byte`);
  if (isAbsolute(path)) throw new ValidationError(`${what} must be relative to the workspace: ${path}`);
  const segments = path.split(/[/\\]+/).filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new ValidationError(`${what} must not contain '..': ${path}`);
  return segments.join("/");
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

export interface ResolvedPath {
  /** Normalised workspace-relative path. */
  relative: string;
  /** Absolute host path (symlinks not resolved). */
  hostPath: string;
  /** Whether something exists at the path (after following symlinks). */
  exists: boolean;
  isDirectory: boolean;
}

/**
 * Resolves `path` inside `workspaceRoot` and rejects it if it, or the deepest existing
 * ancestor, resolves (via symlinks) outside the workspace. A dangling symlink is rejected
 * too, since writing through it would create a file wherever it points.
 */
export async function resolveWorkspacePath(workspaceRoot: string, path: string, what = "path"): Promise<ResolvedPath> {
  const relative = normaliseRelativePath(path, what);
  const root = await realpath(workspaceRoot);
  const hostPath = normalize(join(workspaceRoot, relative));
  // Walk up to the deepest existing ancestor; its real path must be inside the workspace.
  let probe = hostPath;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!isInside(root, real)) throw new ValidationError(`${what} resolves outside the workspace: ${path}`);
      if (probe !== hostPath) return { relative, hostPath, exists: false, isDirectory: false };
      const st = await lstat(real);
      return { relative, hostPath, exists: true, isDirectory: st.isDirectory() };
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
      if (await isSymlink(probe)) throw new ValidationError(`${what} goes through a dangling symlink: ${path}`);
      const parent = normalize(join(probe, ".."));
      if (parent === probe || !isInside(normalize(workspaceRoot), parent)) {
        throw new ValidationError(`${what} is not inside the workspace: ${path}`);
      }
      probe = parent;
    }
  }
}

async function isSymlink(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isSymbolicLink();
  } catch {
    return false;
  }
}
