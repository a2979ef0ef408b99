import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "@sluice/common";

/**
 * `sluice verify | sandbox | tasks …` are implemented by the sandbox package (it owns
 * environments, sandboxes and grading); the CLI runs its entry point as a child with the
 * terminal attached and returns its exit code.
 */
export function runSandboxTool(argv: readonly string[]): Promise<number> {
  const entry = join(REPO_ROOT, "services", "sandbox", "dist", "cli", "main.js");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...argv], { stdio: "inherit" });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.on("error", (err) => {
      process.stderr.write(`sluice: cannot start ${entry}: ${err.message}\n`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(code ?? (signal === "SIGINT" ? 130 : 1));
    });
  });
}
