// Resolves dependency ranges to exact versions with npm itself (a lock-only install: no
// tarballs unpacked, no scripts), and produces the lockfile the environment is built from.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentBuildError, runHostCommand } from "../environments/host-command.js";

const NPM_LOCK_TIMEOUT_MS = 180_000;
const NPM_FLAGS = [
  "--package-lock-only",
  "--ignore-scripts",
  "--no-audit",
  "--no-fund",
  "--no-update-notifier",
  "--loglevel=error",
];

export interface ResolvedDependencies {
  /** name -> exact version (what env.dependencies holds). */
  exact: Record<string, string>;
  /** package-lock.json for exactly those pins (what env.lockfile points to). */
  lockfile: string;
}

interface LockShape {
  packages?: Record<string, { version?: string }>;
}

/**
 * The package.json the environment builder writes next to the lockfile before `npm ci`
 * (services/sandbox/src/environments/npm-env.ts): the lockfile must be generated from the
 * very same manifest or `npm ci` refuses it as out of sync.
 */
export function envManifest(dependencies: Record<string, string>): string {
  return JSON.stringify({ name: "sluice-env", version: "0.0.0", private: true, dependencies }, null, 2);
}

export async function resolveDependencies(
  ranges: Record<string, string>,
  signal?: AbortSignal,
): Promise<ResolvedDependencies> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-lock-"));
  const lock = async (deps: Record<string, string>): Promise<LockShape & { text: string }> => {
    await rm(join(dir, "package-lock.json"), { force: true });
    await writeFile(join(dir, "package.json"), envManifest(deps));
    await runHostCommand("npm", ["install", ...NPM_FLAGS], {
      cwd: dir,
      timeoutMs: NPM_LOCK_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
    const text = await readFile(join(dir, "package-lock.json"), "utf8");
    return { ...(JSON.parse(text) as LockShape), text };
  };
  try {
    const first = await lock(ranges);
    const exact: Record<string, string> = {};
    for (const name of Object.keys(ranges).sort()) {
      const version = first.packages?.[`node_modules/${name}`]?.version;
      if (version === undefined) {
        throw new EnvironmentBuildError(`npm resolved no version for ${name}@${ranges[name] ?? ""}`, { name, ranges });
      }
      exact[name] = version;
    }
    // Second pass with the pins: the lockfile's root then matches the env's manifest exactly.
    const pinned = await lock(exact);
    return { exact, lockfile: pinned.text };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
