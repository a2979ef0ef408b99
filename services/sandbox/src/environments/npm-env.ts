import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Logger, NpmTaskEnv } from "@sluice/common";
import { ensureCacheSubdir } from "./cache-dir.js";
import { exists } from "./fs-exists.js";
import { EnvironmentBuildError, runHostCommand } from "./host-command.js";
import { packTarball } from "./npm-registry.js";

/** A built environment: the published source and the test dependencies, both read-only. */
export interface MaterializedEnv {
  /** Content hash of everything the environment is built from. */
  hash: string;
  dir: string;
  /** The package as published (what the agent's repository starts from). */
  sourceDir: string;
  /** Mounted read-only at /node_modules inside sandboxes. */
  nodeModulesDir: string;
}

export interface MaterializeOptions {
  cacheDir: string;
  /** Directory relative `env.lockfile` paths are resolved against (the task file's dir). */
  taskDir?: string;
  logger: Logger;
  signal?: AbortSignal;
}

const ENV_MARKER = "env.json";
const TAR_TIMEOUT_MS = 60_000;
/** Where node_modules/<pkg> points when the package under test is not itself a dependency. */
const SANDBOX_WORKSPACE = "/workspace";

/** Builds in flight in this process, so concurrent episodes of one task build it once. */
const inFlight = new Map<string, Promise<MaterializedEnv>>();

/**
 * Returns the cached environment for `env`, building it on first use: `npm pack` the exact
 * published version (integrity checked), extract it, install only the listed test
 * dependencies with --ignore-scripts (`npm ci` when a lockfile is given), and publish the
 * result atomically under its content hash.
 */
export async function materializeNpmEnv(env: NpmTaskEnv, options: MaterializeOptions): Promise<MaterializedEnv> {
  const lockfile = env.lockfile ? await readLockfile(env, options.taskDir) : undefined;
  const hash = npmEnvHash(env, lockfile);
  const dir = join(options.cacheDir, "envs", hash);
  const result: MaterializedEnv = {
    hash,
    dir,
    sourceDir: join(dir, "source"),
    nodeModulesDir: join(dir, "node_modules"),
  };
  if (await exists(join(dir, ENV_MARKER))) return result;
  let pending = inFlight.get(hash);
  if (!pending) {
    pending = build(env, lockfile, result, options).finally(() => inFlight.delete(hash));
    inFlight.set(hash, pending);
  }
  return pending;
}

/** sha256 over the package identity, its integrity, the dependency set and the lockfile. */
export function npmEnvHash(env: NpmTaskEnv, lockfile: string | undefined): string {
  const deps = Object.keys(env.dependencies)
    .sort()
    .map((k) => [k, env.dependencies[k]]);
  const material = JSON.stringify({
    kind: "npm",
    package: env.package,
    version: env.version,
    integrity: env.integrity,
    deps,
    lockfile: lockfile ?? "",
  });
  return createHash("sha256").update(material).digest("hex").slice(0, 32);
}

async function readLockfile(env: NpmTaskEnv, taskDir: string | undefined): Promise<string> {
  const path = env.lockfile ?? "";
  const full = isAbsolute(path) ? path : resolve(taskDir ?? process.cwd(), path);
  try {
    return await readFile(full, "utf8");
  } catch (cause) {
    throw new EnvironmentBuildError(
      `env.lockfile ${path} not found (resolved to ${full}; relative paths are resolved against the task file's directory)`,
      { package: env.package, version: env.version, lockfile: full },
      cause,
    );
  }
}

async function build(
  env: NpmTaskEnv,
  lockfile: string | undefined,
  target: MaterializedEnv,
  options: MaterializeOptions,
): Promise<MaterializedEnv> {
  const started = performance.now();
  await ensureCacheSubdir(options.cacheDir, "envs");
  const tmp = join(dirname(target.dir), `.tmp-${target.hash}-${randomUUID().slice(0, 8)}`);
  const signal = options.signal ? { signal: options.signal } : {};
  const installMs = env.timeouts.install_ms;
  await mkdir(join(tmp, "source"), { recursive: true });
  try {
    const tarball = await packTarball(env.package, env.version, tmp, options.signal);
    if (env.integrity && tarball.integrity !== env.integrity) {
      throw new EnvironmentBuildError(
        `${env.package}@${env.version}: tarball integrity ${tarball.integrity} does not match env.integrity ${env.integrity}`,
        { package: env.package, version: env.version },
      );
    }
    await runHostCommand(
      "tar",
      ["-xzf", tarball.file, "-C", join(tmp, "source"), "--strip-components=1", "--no-same-owner"],
      {
        timeoutMs: TAR_TIMEOUT_MS,
        ...signal,
      },
    );
    await rm(tarball.file, { force: true });

    const depsDir = join(tmp, "deps");
    await mkdir(depsDir);
    await writeFile(
      join(depsDir, "package.json"),
      JSON.stringify({ name: "sluice-env", version: "0.0.0", private: true, dependencies: env.dependencies }, null, 2),
    );
    const npmFlags = ["--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error"];
    if (Object.keys(env.dependencies).length > 0) {
      if (lockfile !== undefined) {
        await writeFile(join(depsDir, "package-lock.json"), lockfile);
        await runHostCommand("npm", ["ci", ...npmFlags], { cwd: depsDir, timeoutMs: installMs, ...signal });
      } else {
        await runHostCommand("npm", ["install", ...npmFlags], { cwd: depsDir, timeoutMs: installMs, ...signal });
      }
      await rename(join(depsDir, "node_modules"), join(tmp, "node_modules"));
    } else {
      await mkdir(join(tmp, "node_modules"));
    }
    await rm(depsDir, { recursive: true, force: true });
    // `require("qs")` from a test must reach the workspace copy, never a pristine one.
    const self = join(tmp, "node_modules", env.package);
    if (!(await exists(self))) {
      await mkdir(dirname(self), { recursive: true });
      await symlink(SANDBOX_WORKSPACE, self);
    }
    // Sandboxes run as an unprivileged host uid: everything must be world-readable.
    await runHostCommand("chmod", ["-R", "a+rX", tmp], { timeoutMs: TAR_TIMEOUT_MS, ...signal });
    await writeFile(
      join(tmp, ENV_MARKER),
      JSON.stringify({ hash: target.hash, package: env.package, version: env.version, dependencies: env.dependencies }),
    );
    try {
      await rename(tmp, target.dir);
    } catch (err) {
      // Another process published the same hash first; its copy is as good as ours.
      if (!(await exists(join(target.dir, ENV_MARKER)))) throw err;
      await rm(tmp, { recursive: true, force: true });
    }
    options.logger.info("environment built", {
      package: env.package,
      version: env.version,
      hash: target.hash,
      ms: Math.round(performance.now() - started),
    });
    return target;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
