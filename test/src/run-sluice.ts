/** What the end-to-end tests share: running the `sluice` CLI and checking for orphans. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@sluice/common";

/** Runs `sluice <args>` from the repo root; past `deadlineMs` it gets SIGINT (a clean stop). */
export function runSluice(args: string[], deadlineMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "services/cli/dist/main.js"), ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGINT"), deadlineMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

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
