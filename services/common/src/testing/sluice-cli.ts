import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../paths.js";

/**
 * Runs the built `sluice` CLI (services/cli/dist/main.js) with `args` from the repo root, for
 * end-to-end tests and benchmarks. Past `deadlineMs` it gets SIGINT, which `sluice up` turns
 * into a clean stop, so the run's children are reaped rather than orphaned.
 */
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
