// Minimal globs for package recipes ("lib/*.js", "test/**/*.js"): `**` spans directories,
// `*` and `?` stay within one path segment. Paths are workspace-relative with forward slashes.
import { readdir } from "node:fs/promises";
import { join } from "node:path";

export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      // "**/" matches zero or more whole directories; a trailing "**" matches anything.
      if (glob[i + 2] === "/") {
        re += "(?:[^/]+/)*";
        i += 2;
      } else {
        re += ".*";
        i += 1;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path));
}

/** `include` minus `exclude`, sorted (the order test files run and appear in tasks). */
export function selectFiles(
  paths: readonly string[],
  include: readonly string[],
  exclude: readonly string[] = [],
): string[] {
  return paths.filter((p) => matchesAny(p, include) && !matchesAny(p, exclude)).sort();
}

/** Every regular file under root as a relative path; node_modules and .git are never source. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const rec = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && e.name !== ".git") await rec(path);
      } else if (e.isFile()) {
        out.push(path);
      }
    }
  };
  await rec("");
  return out.sort();
}
