// Runs a package's test suite in a fresh sandbox on the published source with some files
// replaced or removed: the clean baseline, a bugged candidate, old/new upstream states.
import { randomUUID } from "node:crypto";
import type { NpmTaskEnv } from "@sluice/common";
import type { SandboxBackend } from "../backend.js";
import type { MaterializedEnv } from "../environments/npm-env.js";
import { envSandboxOptions } from "../environments/sandbox-mounts.js";
import { runTaskTests, type TestRun } from "../environments/test-runner.js";
import { Semaphore } from "./pool.js";

/** path -> new content, or null to delete the file. */
export type Overrides = ReadonlyMap<string, string | null>;

export interface SuiteContext {
  backend: SandboxBackend;
  /** Bounds concurrent suite runs across the whole build (--jobs). */
  slots: Semaphore;
  signal?: AbortSignal;
}

const RM_TIMEOUT_MS = 30_000;

export async function runSuite(
  ctx: SuiteContext,
  menv: MaterializedEnv,
  env: NpmTaskEnv,
  overrides: Overrides,
  label: string,
): Promise<TestRun> {
  return ctx.slots.run(async () => {
    // Each run gets its own sandbox on a fresh copy: a test that writes files cannot leak
    // state into the next run.
    const info = await ctx.backend.create({
      workspaceSource: menv.sourceDir,
      episodeId: `tasks-build-${label}-${randomUUID().slice(0, 8)}`,
      env: {},
      ...envSandboxOptions(menv),
    });
    try {
      const removed: string[] = [];
      for (const [path, content] of overrides) {
        if (content === null) removed.push(path);
        else await ctx.backend.writeFile(info.sandboxId, path, Buffer.from(content));
      }
      if (removed.length > 0) {
        await ctx.backend.exec(info.sandboxId, {
          argv: ["rm", "-f", "--", ...removed],
          timeoutMs: RM_TIMEOUT_MS,
          stdin: new Uint8Array(),
          maxOutputBytes: 0,
          workdir: "",
        });
      }
      return await runTaskTests(ctx.backend, info.sandboxId, env, ctx.signal ? { signal: ctx.signal } : {});
    } finally {
      await ctx.backend.destroy(info.sandboxId);
    }
  });
}
