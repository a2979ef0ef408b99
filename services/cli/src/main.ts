#!/usr/bin/env node
import { SpecError, errorMessage } from "@sluice/common";
import { parseCliArgs, USAGE, type CliArgs } from "./args.js";
import { runUp } from "./commands/up.js";
import { runValidate } from "./commands/validate.js";
import { runSandboxTool } from "./commands/sandbox-tool.js";
import { runEval } from "./commands/eval.js";
import { UsageError } from "./errors.js";

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "eval") return runEval(argv.slice(1));
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sluice: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  switch (args.command) {
    case "help":
      process.stdout.write(USAGE);
      return 0;
    case "validate":
      return runValidate(args);
    case "up":
      return runUp(args);
    case "sandbox-tool":
      return runSandboxTool(args.argv);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`sluice: ${err instanceof SpecError ? err.message : errorMessage(err)}\n`);
    process.exit(err instanceof SpecError ? 2 : 1);
  },
);
