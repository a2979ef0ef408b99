import { SpecError } from "@sluice/common";
import type { ValidateArgs } from "../args.js";
import { loadManifest } from "../manifest.js";

/** `sluice validate -f FILE`: 0 and "ok", or 2 and every field problem on stderr. */
export function runValidate(args: ValidateArgs): number {
  try {
    const m = loadManifest(args.file);
    process.stdout.write(`ok: ${m.metadata.name} (${m.spec.steps} steps, environment ${m.spec.environment.name})\n`);
    return 0;
  } catch (err) {
    if (err instanceof SpecError) {
      process.stderr.write(err.message + "\n");
      return 2;
    }
    throw err;
  }
}
