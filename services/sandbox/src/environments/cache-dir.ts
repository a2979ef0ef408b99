import { chmod, mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where built environments and task workspaces are cached: $SLUICE_CACHE_DIR, else the XDG
 * cache dir — except for root, whose home is usually mode 700: sandboxes run as an
 * unprivileged uid and must traverse the cache to bind dependencies, so root uses
 * /var/cache/sluice. Entries are named by content hash, so sharing one cache between runs,
 * tests and processes is safe.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env["SLUICE_CACHE_DIR"]) return env["SLUICE_CACHE_DIR"];
  if (process.getuid?.() === 0) return "/var/cache/sluice";
  const xdg = env["XDG_CACHE_HOME"] || join(env["HOME"] || homedir(), ".cache");
  return join(xdg, "sluice");
}

/** Creates `sub` under the cache dir, both traversable by the sandbox uid. */
export async function ensureCacheSubdir(cacheDir: string, sub: string): Promise<string> {
  const dir = join(cacheDir, sub);
  await mkdir(dir, { recursive: true });
  for (const d of [cacheDir, dir]) {
    // A temp dir (mode 700) or a umask-077 user would hide the dependencies from sandboxes.
    await chmod(d, 0o755).catch(() => undefined);
  }
  return dir;
}
