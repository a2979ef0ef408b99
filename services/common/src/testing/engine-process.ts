import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { withDeadline } from "../deadline.js";
import { REPO_ROOT } from "../paths.js";

export const ENGINE_PYTHON = join(REPO_ROOT, ".venv", "bin", "python");
const ENGINE_DIR = join(REPO_ROOT, "services", "engine");

/** Why an engine test cannot run here, or false. */
export const engineSkip: string | false = existsSync(ENGINE_PYTHON)
  ? false
  : `engine venv missing (${ENGINE_PYTHON}); build services/engine to run this test`;

export interface EngineProcess {
  child: ChildProcess;
  port: number;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `python -m sluice_engine` with the tiny offline model on CPU; resolves when ready. */
export async function startEngine(startupMs = 120_000): Promise<EngineProcess> {
  const child = spawn(
    ENGINE_PYTHON,
    [
      "-m",
      "sluice_engine",
      "--port",
      "0",
      "--grace",
      "1",
      "--torch-threads",
      "1",
      "--model-spec",
      '{"source": "tiny", "seed": 0, "device": "cpu"}',
    ],
    { cwd: ENGINE_DIR, env: { ...process.env, PYTHONPATH: ENGINE_DIR }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const port = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      for (const line of output.split("\n")) {
        if (!line.includes('"ready"')) continue;
        try {
          const rec = JSON.parse(line) as { msg?: string; port?: number };
          if (rec.msg === "ready" && typeof rec.port === "number") resolve(rec.port);
        } catch {
          // partial line; wait for more
        }
      }
      if (output.length > 100_000) output = output.slice(-20_000);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`engine exited with ${code} before ready:\n${output.slice(-4000)}`)));
  });
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await withDeadline(exited, graceMs, "engine stop").catch(() => {
      child.kill("SIGKILL");
    });
  };
  try {
    return { child, port: await withDeadline(port, startupMs, "engine startup"), stop };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}
