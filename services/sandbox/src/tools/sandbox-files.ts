import { posix } from "node:path";
import { SluiceError } from "@sluice/common";
import type { SandboxBackend } from "../backend.js";

/**
 * Where the workspace appears inside every sandbox, whatever the backend. Tool paths are
 * absolute sandbox paths; the backend's file API takes them relative to this.
 */
export const WORKSPACE_ROOT = "/workspace";

export type PathKind = "file" | "dir" | "other" | "missing" | "dangling";

/** What is at a path, as the sandbox sees it. */
export interface PathProbe {
  kind: PathKind;
  /** The path with every symlink resolved (`realpath -m`). */
  real: string;
  /** The deepest existing ancestor of the path, and whether it is a directory. */
  ancestor: string;
  ancestorIsDir: boolean;
}

// Scripts start with a tag so a fake backend can tell them apart (see fake-backend.ts).
export const PROBE_SCRIPT = `# sluice:probe
p=$1
r=$(realpath -m -- "$p") || exit 3
if [ -d "$p" ]; then k=dir; elif [ -f "$p" ]; then k=file; elif [ -L "$p" ]; then k=dangling; elif [ -e "$p" ]; then k=other; else k=missing; fi
a=$(dirname -- "$p")
while [ ! -e "$a" ] && [ ! -L "$a" ]; do a=$(dirname -- "$a"); done
if [ -d "$a" ]; then ak=dir; else ak=notdir; fi
printf '%s\\0%s\\0%s\\0%s\\0' "$k" "$r" "$a" "$ak"`;

/** Entries up to two levels below $1, hidden ones (and what is under them) left out. */
export const LIST_SCRIPT = `# sluice:list
cd -- "$1" && find . -maxdepth 2 -not -path '*/.*' -print0`;

export const REMOVE_SCRIPT = `# sluice:remove
rm -f -- "$1"`;

/**
 * File operations for the tools of one sandbox. Reads and writes go through the backend's
 * file API, which refuses paths that leave the workspace on the host side too; the rest
 * (existence, symlink resolution, listing) runs as small shell scripts inside the sandbox,
 * so it sees exactly what the agent's commands see.
 */
export class SandboxFiles {
  constructor(
    private readonly backend: SandboxBackend,
    private readonly sandboxId: string,
    private readonly timeoutMs: number,
  ) {}

  /** What is at `absPath`; `error` when the sandbox could not resolve it (the agent's doing, e.g. permissions). */
  async probe(absPath: string): Promise<PathProbe | { error: string }> {
    const res = await this.script(PROBE_SCRIPT, absPath, 64 * 1024);
    const [kind, real, ancestor, ancestorKind] = res.stdout.toString("utf8").split("\0");
    if (res.exitCode !== 0 || !isKind(kind) || real === undefined || ancestor === undefined) {
      return { error: res.stderr.toString("utf8").trim() || `exit ${res.exitCode}` };
    }
    return { kind, real, ancestor, ancestorIsDir: ancestorKind === "dir" };
  }

  /** Sandbox paths (absolute) of the entries under `absDir`, sorted, `absDir` itself first. */
  async list(absDir: string, maxOutputBytes: number): Promise<{ entries: string[]; error: string }> {
    const res = await this.script(LIST_SCRIPT, absDir, maxOutputBytes);
    const entries = res.stdout
      .toString("utf8")
      .split("\0")
      .filter((e) => e !== "")
      .map((e) => (e === "." ? absDir : posix.join(absDir, e)))
      .sort();
    return { entries, error: res.exitCode === 0 ? "" : res.stderr.toString("utf8").trim() };
  }

  read(relPath: string, maxBytes: number): Promise<{ content: Uint8Array; truncated: boolean }> {
    return this.backend.readFile(this.sandboxId, relPath, maxBytes);
  }

  write(relPath: string, content: Uint8Array): Promise<void> {
    return this.backend.writeFile(this.sandboxId, relPath, content);
  }

  async remove(relPath: string): Promise<void> {
    const res = await this.script(REMOVE_SCRIPT, relPath, 4096);
    if (res.exitCode !== 0) throw new SluiceError(`rm ${relPath} failed: ${res.stderr.toString("utf8").trim()}`);
  }

  private async script(
    script: string,
    arg: string,
    maxOutputBytes: number,
  ): Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }> {
    const res = await this.backend.exec(this.sandboxId, {
      argv: ["/bin/sh", "-c", script, "sh", arg],
      timeoutMs: this.timeoutMs,
      stdin: new Uint8Array(),
      maxOutputBytes,
      workdir: "",
    });
    if (res.timedOut)
      throw new SluiceError(`${script.split("\n")[0] ?? "script"} timed out after ${this.timeoutMs} ms`);
    return { exitCode: res.exitCode, stdout: Buffer.from(res.stdout), stderr: Buffer.from(res.stderr) };
  }
}

function isKind(s: string | undefined): s is PathKind {
  return s === "file" || s === "dir" || s === "other" || s === "missing" || s === "dangling";
}
