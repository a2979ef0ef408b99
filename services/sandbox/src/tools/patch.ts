import { ValidationError } from "@sluice/common";
import type { SandboxBackend } from "../backend.js";
import { GRPC_FAILED_PRECONDITION, SandboxStatusError } from "../errors.js";
import { MAX_OUTPUT_BYTES_CAP } from "../limits.js";

/**
 * Never part of a patch unless the base commit already tracks them: installed dependencies
 * and caches that running the tests leaves behind. gitignore syntax, any depth.
 */
export const DEFAULT_PATCH_EXCLUDES: readonly string[] = [
  "node_modules",
  ".nyc_output",
  "coverage",
  "__pycache__",
  "*.pyc",
  ".cache",
];

export interface ExtractPatchOptions {
  /** The workspace's base commit (sha or ref) the diff is taken against. */
  baseCommit: string;
  /** A larger diff is reported as too large, without its text. */
  maxBytes: number;
  /** Extra gitignore patterns, on top of DEFAULT_PATCH_EXCLUDES. */
  excludes?: readonly string[];
  timeoutMs?: number;
}

export interface ExtractedPatch {
  /** `git diff --binary` output; empty when there is no change or it is too large. */
  patch: string;
  tooLarge: boolean;
  sizeBytes: number;
}

/** The workspace's git state does not allow a diff (e.g. the agent removed .git or the base commit). */
export class PatchExtractionError extends SandboxStatusError {
  constructor(message: string) {
    super(message, GRPC_FAILED_PRECONDITION);
    this.name = "PatchExtractionError";
  }
}

/**
 * Runs inside the sandbox, as the sandbox user. A private index built from the base tree
 * (`read-tree`) plus `add -A` gives "base → working tree" whatever the agent did to its own
 * index, branches or commits, and leaves the agent's repository state untouched. Excludes go
 * through core.excludesFile rather than pathspecs: ignore rules only keep *untracked* files
 * out, so a change to a tracked file under e.g. `coverage/` still counts. Config that could
 * change the patch's shape or run code (prefixes, external diff, fsmonitor, hooks, the
 * agent's ~/.gitconfig, since HOME is the workspace) is overridden. The diff runs twice,
 * first only counted, so an oversized one is never buffered.
 */
const PATCH_SCRIPT = `# sluice:patch
set -eu -o pipefail
base=$1; max=$2; shift 2
export GIT_INDEX_FILE=/tmp/sluice-patch-index GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 GIT_OPTIONAL_LOCKS=0
ex=/tmp/sluice-patch-exclude
printf '%s\\n' "$@" > "$ex"
g() {
  git -c safe.directory='*' -c core.excludesFile="$ex" -c core.fsmonitor=false -c core.hooksPath=/dev/null \\
    -c core.autocrlf=false -c core.safecrlf=false -c diff.noprefix=false -c diff.mnemonicPrefix=false \\
    -c diff.relative=false -c diff.srcPrefix=a/ -c diff.dstPrefix=b/ "$@"
}
d() { g diff --cached --binary --full-index --no-color --no-ext-diff --no-textconv "$base" --; }
g read-tree "$base"
g add -A
size=$(d | wc -c)
size=$((size))
printf '%s\\n' "$size"
if [ "$size" -le "$max" ]; then d; fi`;

export async function extractPatch(
  backend: SandboxBackend,
  sandboxId: string,
  options: ExtractPatchOptions,
): Promise<ExtractedPatch> {
  const { baseCommit } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(baseCommit))
    throw new ValidationError(`base commit is not a commit id or ref: ${JSON.stringify(baseCommit)}`);
  if (!Number.isInteger(options.maxBytes) || options.maxBytes <= 0)
    throw new ValidationError(`maxBytes must be a positive integer: ${options.maxBytes}`);
  const excludes = [...DEFAULT_PATCH_EXCLUDES, ...(options.excludes ?? [])];
  for (const e of excludes) {
    if (e === "" || /[\n\r\0]/.test(e)) throw new ValidationError(`invalid exclude pattern: ${JSON.stringify(e)}`);
  }
  // The reply must fit the backend's output cap: the size line plus the patch.
  const maxBytes = Math.min(options.maxBytes, MAX_OUTPUT_BYTES_CAP - 64);
  const res = await backend.exec(sandboxId, {
    argv: ["/bin/bash", "-c", PATCH_SCRIPT, "bash", baseCommit, String(maxBytes), ...excludes],
    timeoutMs: options.timeoutMs ?? 120_000,
    stdin: new Uint8Array(),
    maxOutputBytes: maxBytes + 64,
    workdir: "",
  });
  const stderr = Buffer.from(res.stderr).toString("utf8").trim();
  if (res.timedOut) throw new PatchExtractionError(`extracting the patch timed out: ${stderr}`);
  if (res.exitCode !== 0)
    throw new PatchExtractionError(`extracting the patch failed (exit ${res.exitCode}): ${stderr}`);
  const out = Buffer.from(res.stdout);
  const nl = out.indexOf(0x0a);
  const sizeBytes = Number(out.subarray(0, nl).toString("utf8"));
  if (nl < 0 || !Number.isSafeInteger(sizeBytes)) throw new PatchExtractionError(`unexpected patch output: ${stderr}`);
  if (sizeBytes > maxBytes) return { patch: "", tooLarge: true, sizeBytes };
  const patch = out.subarray(nl + 1);
  if (patch.length !== sizeBytes || res.outputTruncated)
    throw new PatchExtractionError(`the diff changed while it was read (${sizeBytes} then ${patch.length} bytes)`);
  // Text diffs of files that are not UTF-8 lose those bytes here: the contract's field is a string.
  return { patch: patch.toString("utf8"), tooLarge: false, sizeBytes };
}
