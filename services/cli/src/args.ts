import { parseArgs } from "node:util";
import { UsageError } from "./errors.js";

export const USAGE = `usage: sluice <command> [options]

commands:
  up -f FILE [--steps N] [--run-dir DIR] [--seed S] [--max-restarts N] [--keep-nats-store]
      start nats-server, the engine and every service, train, write summary.json;
      --max-restarts: restarts per component that dies (spec.restart.maxRestarts)
  validate -f FILE
      check an RLExperiment manifest; prints "ok" or each field and problem
  verify --task FILE --patch FILE [--instance ID] [--cache-dir DIR]
      grade one patch for one SWE task in a fresh sandbox; prints the report as JSON
  sandbox run --task FILE [--instance ID] [--timeout-ms N] -- COMMAND...
      run one command in a fresh sandbox of a task; prints the observation
  tasks build [--out DIR] [--packages a,b] [--max-per-package N] [--seed S] [--jobs N]
      build SWE tasks from npm packages (bug synthesis and mined upstream fixes)
  tasks check [FILE|DIR...]
      load a task set and report every malformed task
  help, --help
      this text

exit codes: 0 ok, 1 run failed, 2 bad usage or invalid spec, 130 interrupted
`;

export interface UpArgs {
  command: "up";
  file: string;
  steps?: number;
  seed?: number;
  runDir?: string;
  maxRestarts?: number;
  keepNatsStore: boolean;
}

export interface ValidateArgs {
  command: "validate";
  file: string;
}

export interface HelpArgs {
  command: "help";
}

/** Commands the sandbox package implements (task sets, sandboxes, verification). */
export interface SandboxToolArgs {
  command: "sandbox-tool";
  argv: string[];
}

export type CliArgs = UpArgs | ValidateArgs | HelpArgs | SandboxToolArgs;

const SANDBOX_TOOL_COMMANDS = new Set(["verify", "sandbox", "tasks"]);

/** Parses argv (without node and script). Throws UsageError on anything unexpected. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    return { command: "help" };
  }
  if (command === "validate") {
    const values = strictParse(rest, { file: { type: "string", short: "f" } });
    return { command: "validate", file: requireFile(values.file) };
  }
  if (command === "up") {
    const values = strictParse(rest, {
      file: { type: "string", short: "f" },
      steps: { type: "string" },
      seed: { type: "string" },
      "run-dir": { type: "string" },
      "max-restarts": { type: "string" },
      "keep-nats-store": { type: "boolean" },
    });
    const out: UpArgs = {
      command: "up",
      file: requireFile(values.file),
      keepNatsStore: values["keep-nats-store"] === true,
    };
    if (typeof values.steps === "string") out.steps = parseInteger("--steps", values.steps, 1);
    if (typeof values.seed === "string") out.seed = parseInteger("--seed", values.seed, 0);
    if (typeof values["run-dir"] === "string") out.runDir = values["run-dir"];
    if (typeof values["max-restarts"] === "string")
      out.maxRestarts = parseInteger("--max-restarts", values["max-restarts"], 0);
    return out;
  }
  // Parsed (and usage-checked) by the sandbox package's own entry point.
  if (SANDBOX_TOOL_COMMANDS.has(command)) return { command: "sandbox-tool", argv: [command, ...rest] };
  throw new UsageError(`unknown command ${JSON.stringify(command)}`);
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

function strictParse(args: string[], options: OptionSpec): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (cause) {
    // node's messages already name the offending flag; keep them.
    throw new UsageError((cause as Error).message, { cause });
  }
}

function requireFile(file: string | boolean | undefined): string {
  if (typeof file !== "string" || file.length === 0) throw new UsageError("missing -f FILE (the experiment manifest)");
  return file;
}

function parseInteger(flag: string, raw: string, min: number): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} expects an integer >= ${min}, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} expects an integer >= ${min}, got ${raw}`);
  return n;
}
