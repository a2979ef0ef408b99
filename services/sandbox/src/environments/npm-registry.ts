import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EnvironmentBuildError, runHostCommand } from "./host-command.js";

const NPM_TIMEOUT_MS = 120_000;

export interface PackageVersionInfo {
  version: string;
  integrity: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

export interface PackageMetadata {
  name: string;
  /** Published versions in publication order. */
  versions: string[];
  /** Publication time by version (ISO). */
  time: Record<string, string>;
}

/** Registry metadata through the npm CLI (its configured registry, proxy and cache). */
export async function packageMetadata(name: string, signal?: AbortSignal): Promise<PackageMetadata> {
  const res = await runHostCommand("npm", ["view", name, "versions", "time", "--json"], {
    timeoutMs: NPM_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  const raw = JSON.parse(res.stdout) as { versions?: string[] | string; time?: Record<string, string> };
  const versions = Array.isArray(raw.versions) ? raw.versions : raw.versions ? [raw.versions] : [];
  return { name, versions, time: raw.time ?? {} };
}

export async function packageVersionInfo(
  name: string,
  version: string,
  signal?: AbortSignal,
): Promise<PackageVersionInfo> {
  const res = await runHostCommand(
    "npm",
    ["view", `${name}@${version}`, "version", "dist.integrity", "dependencies", "devDependencies", "--json"],
    { timeoutMs: NPM_TIMEOUT_MS, ...(signal ? { signal } : {}) },
  );
  const raw = JSON.parse(res.stdout) as Record<string, unknown>;
  const deps = (k: string): Record<string, string> => (raw[k] ?? {}) as Record<string, string>;
  return {
    version: String(raw["version"] ?? version),
    integrity: String(raw["dist.integrity"] ?? ""),
    dependencies: deps("dependencies"),
    devDependencies: deps("devDependencies"),
  };
}

/** Subresource-integrity string (sha512-<base64>) of a file, as npm records it. */
export async function fileIntegrity(file: string): Promise<string> {
  return `sha512-${createHash("sha512")
    .update(await readFile(file))
    .digest("base64")}`;
}

/**
 * Downloads the published tarball of name@version into destDir with `npm pack` (which goes
 * through npm's cache, so rebuilds are offline once fetched) and returns its path and SRI.
 */
export async function packTarball(
  name: string,
  version: string,
  destDir: string,
  signal?: AbortSignal,
): Promise<{ file: string; integrity: string }> {
  const res = await runHostCommand(
    "npm",
    ["pack", `${name}@${version}`, "--json", "--ignore-scripts", "--pack-destination", destDir],
    { cwd: destDir, timeoutMs: NPM_TIMEOUT_MS, ...(signal ? { signal } : {}) },
  );
  const parsed = JSON.parse(res.stdout) as Array<{ filename?: string }>;
  const filename = parsed[0]?.filename;
  if (!filename) throw new EnvironmentBuildError(`npm pack ${name}@${version} printed no filename`, { name, version });
  // npm pack names scoped tarballs scope-name-version.tgz; the JSON says which.
  const file = join(destDir, filename.replace(/^@/, "").replace(/\//g, "-"));
  return { file, integrity: await fileIntegrity(file) };
}
