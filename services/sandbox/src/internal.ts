// For tests (this package's and siblings'): small defaults and a throwaway backend.
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger } from "@sluice/common";
import { BubblewrapBackend, type BubblewrapBackendOptions } from "./bubblewrap-backend.js";
import type { SandboxDefaults } from "./limits.js";

/** Limits small enough that runaway test commands end quickly. */
export const TEST_DEFAULTS: SandboxDefaults = {
  limits: {
    memoryBytes: 1024 ** 3,
    maxProcesses: 64,
    maxFileBytes: 64 * 1024 ** 2,
    maxOpenFiles: 256,
    cpuSeconds: 30,
  },
  commandTimeoutMs: 10_000,
  maxOutputBytes: 64 * 1024,
};

export function quietLogger(): Logger {
  return createLogger({ experiment: "test", component: "sandbox", level: "error" });
}

export interface TestBackend {
  backend: BubblewrapBackend;
  baseDir: string;
  /** Destroys every sandbox and removes the base dir. */
  cleanup(): Promise<void>;
}

/** A bubblewrap backend on a fresh temp base dir (world-traversable, so uid drop works). */
export async function startTestBackend(overrides: Partial<BubblewrapBackendOptions> = {}): Promise<TestBackend> {
  const baseDir = await mkdtemp(join(tmpdir(), "sluice-sandbox-"));
  const backend = await BubblewrapBackend.create({
    baseDir,
    defaults: TEST_DEFAULTS,
    logger: quietLogger(),
    ...overrides,
  });
  return {
    backend,
    baseDir,
    cleanup: async () => {
      await backend.close();
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}

/**
 * Host pids whose command line contains `marker` (e.g. a unique sleep length), skipping
 * node processes (the test runner's own command line may mention it).
 */
export async function hostProcessesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
      if (cmd.includes(marker) && !/(^|\/)node /.test(cmd)) pids.push(Number(pid));
    } catch {
      // Process went away while we looked.
    }
  }
  return pids;
}

/** Polls `check` every 50 ms until it returns true; fails with `what` after `ms`. */
export async function waitUntil(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { OutputCapture, truncationMarker } from "./output-capture.js";
export { normaliseRelativePath, resolveWorkspacePath } from "./workspace-path.js";
export { minimistBugTask, MINIMIST_INTEGRITY } from "./testing/fixture-task.js";
