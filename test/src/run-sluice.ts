/** What the end-to-end tests share: running the `sluice` CLI and checking for orphans. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export { runSluice } from "@sluice/common/internal";

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Names of the processes in `<runDir>/pids.json` that are still running. */
export function orphans(runDir: string): string[] {
  const pidsFile = join(runDir, "pids.json");
  if (!existsSync(pidsFile)) return [];
  const pids = JSON.parse(readFileSync(pidsFile, "utf8")) as Record<string, number>;
  return Object.entries(pids)
    .filter(([, pid]) => alive(pid))
    .map(([name, pid]) => `${name} (pid ${pid})`);
}

/** `<runDir>/pids.json`: the current pid of every component (a restart rewrites it). */
export function readPids(runDir: string): Record<string, number> {
  const pidsFile = join(runDir, "pids.json");
  if (!existsSync(pidsFile)) return {};
  try {
    return JSON.parse(readFileSync(pidsFile, "utf8")) as Record<string, number>;
  } catch {
    return {}; // being rewritten: the caller polls again
  }
}
