#!/usr/bin/env node
// `sluice verify | sandbox run | tasks build | tasks check`: the sandbox package's own entry.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLogger, errorMessage, loadTaskSet, SluiceError, ValidationError } from "@sluice/common";
import { BubblewrapBackend } from "../bubblewrap-backend.js";
import { runTasksBuild } from "../builder/main.js";
import { defaultCacheDir } from "../environments/cache-dir.js";
import { createTaskSandbox } from "../environments/task-sandbox.js";
import { formatObservation } from "../tools/index.js";
import { Verifier } from "../verifier.js";
import { readOneTask, readPatch } from "./task-input.js";
import { sandboxDefaultsFromSpec } from "../spec-defaults.js";

const USAGE = `usage:
  sluice verify --task FILE --patch FILE [--instance ID] [--cache-dir DIR]
  sluice sandbox run --task FILE [--instance ID] [--timeout-ms N] [--cache-dir DIR] -- COMMAND...
  sluice tasks build [--out DIR] [--packages a,b] [--max-per-package N] [--seed S] [--jobs N] [--cache-dir DIR]
  sluice tasks check [FILE|DIR...]
`;

class UsageError extends SluiceError {}

const logger = createLogger({ experiment: "cli", component: "sandbox-cli", level: "warn" });

async function withBackend<T>(fn: (backend: BubblewrapBackend) => Promise<T>): Promise<T> {
  const baseDir = await mkdtemp(join(tmpdir(), "sluice-cli-sandboxes-"));
  const backend = await BubblewrapBackend.create({
    baseDir,
    maxSandboxes: 4,
    defaults: sandboxDefaultsFromSpec(),
    logger,
  });
  try {
    return await fn(backend);
  } finally {
    await backend.close();
    await rm(baseDir, { recursive: true, force: true });
  }
}

type Values = Record<string, string | boolean | undefined>;

function parse(
  args: string[],
  options: Record<string, { type: "string" | "boolean" }>,
  positionals = false,
): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

function optional(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

function required(values: Values, name: string): string {
  const v = optional(values, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

async function verify(args: string[]): Promise<number> {
  const { values } = parse(args, {
    task: { type: "string" },
    patch: { type: "string" },
    instance: { type: "string" },
    "cache-dir": { type: "string" },
  });
  const { task, taskDir } = readOneTask(required(values, "task"), optional(values, "instance"));
  const patch = readPatch(required(values, "patch"));
  const cacheDir = optional(values, "cache-dir") ?? defaultCacheDir();
  const res = await withBackend((backend) =>
    new Verifier({ backend, cacheDir, logger, taskDir }).verify({
      task,
      patch,
      submitted: true,
      episodeId: `cli-${process.pid}`,
    }),
  );
  const out = {
    instance_id: task.instance_id,
    outcome_level: res.level,
    resolved: res.resolved,
    infrastructure_error: res.infrastructureError,
    error: res.error,
    apply_method: res.applyMethod,
    duration_ms: res.durationMs,
    report: { [task.instance_id]: res.report },
  };
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  return res.infrastructureError ? 1 : 0;
}

async function sandboxRun(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "run") throw new UsageError(`unknown sandbox command ${JSON.stringify(sub ?? "")}`);
  const { values, positionals } = parse(
    rest,
    {
      task: { type: "string" },
      instance: { type: "string" },
      "timeout-ms": { type: "string" },
      "cache-dir": { type: "string" },
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError("give the command after --, e.g. -- ls -la");
  const timeoutText = optional(values, "timeout-ms");
  const timeoutMs = timeoutText === undefined ? 60_000 : Number(timeoutText);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError("--timeout-ms must be a positive integer");
  const { task, taskDir } = readOneTask(required(values, "task"), optional(values, "instance"));
  const cacheDir = optional(values, "cache-dir") ?? defaultCacheDir();
  // One argument is a shell command line; several are an argv.
  const argv = positionals.length === 1 ? ["/bin/bash", "-c", positionals[0] as string] : positionals;
  return withBackend(async (backend) => {
    const sb = await createTaskSandbox(backend, task, { cacheDir, taskDir, logger, episodeId: `cli-${process.pid}` });
    const res = await backend.exec(sb.sandboxId, {
      argv,
      timeoutMs,
      stdin: new Uint8Array(),
      maxOutputBytes: 1024 * 1024,
      workdir: "",
    });
    const output = Buffer.concat([Buffer.from(res.stdout), Buffer.from(res.stderr)]).toString();
    process.stdout.write(formatObservation(res.exitCode, output) + "\n");
    process.stderr.write(
      JSON.stringify({
        sandbox: sb.sandboxId,
        base_commit: sb.baseCommit,
        environment: sb.envHash,
        enforced: sb.enforced,
        exit_code: res.exitCode,
        timed_out: res.timedOut,
        truncated: res.outputTruncated,
        elapsed_ms: res.durationMs,
      }) + "\n",
    );
    return res.timedOut ? 124 : res.exitCode < 0 ? 1 : res.exitCode;
  });
}

function tasksCheck(args: string[]): number {
  const paths = args.length > 0 ? args : ["tasks"];
  const { tasks, errors } = loadTaskSet(paths);
  for (const e of errors) process.stderr.write(`${e.message}\n`);
  process.stdout.write(JSON.stringify({ tasks: tasks.length, errors: errors.length }) + "\n");
  return errors.length > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "verify":
        return await verify(rest);
      case "sandbox":
        return await sandboxRun(rest);
      case "tasks":
        if (rest[0] === "build") return await runTasksBuild(rest.slice(1));
        if (rest[0] === "check") return tasksCheck(rest.slice(1));
        throw new UsageError(`unknown tasks command ${JSON.stringify(rest[0] ?? "")}`);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command ?? "")}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sluice: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`sluice: ${errorMessage(err)}\n`);
    return err instanceof ValidationError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
