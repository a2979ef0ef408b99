// Test helper: an in-memory SandboxBackend for the tools' unit tests. It understands only
// the scripts the tools run (tagged "# sluice:…") and hands bash commands to a callback.
import { posix } from "node:path";
import { ValidationError } from "@sluice/common";
import type {
  CreateSandboxOptions,
  ExecOptions,
  ExecResult,
  ReadFileResult,
  SandboxBackend,
  SandboxInfo,
} from "../backend.js";
import { SandboxFileNotFoundError, SandboxNotFoundError } from "../errors.js";

const ROOT = "/workspace";

export type BashHandler = (command: string, options: ExecOptions) => Partial<ExecResult>;

export class FakeBackend implements SandboxBackend {
  readonly kind = "fake";
  /** Workspace-relative path → content. */
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>([""]);
  /** Workspace-relative path → link target (absolute sandbox path or relative to the link). */
  readonly links = new Map<string, string>();
  readonly sandboxes = new Set<string>(["sbx-1"]);
  readonly execs: ExecOptions[] = [];
  bash: BashHandler = () => ({});

  create(_options: CreateSandboxOptions): Promise<SandboxInfo> {
    const id = `sbx-${this.sandboxes.size + 1}`;
    this.sandboxes.add(id);
    return Promise.resolve({ sandboxId: id, workspacePath: "/fake", enforced: [] });
  }

  /** Adds a file (and its parent directories). */
  put(rel: string, content: string | Buffer): void {
    this.files.set(rel, Buffer.from(content));
    for (let d = posix.dirname(rel); d !== "." && d !== ""; d = posix.dirname(d)) this.dirs.add(d);
  }

  text(rel: string): string | undefined {
    return this.files.get(rel)?.toString("utf8");
  }

  exec(sandboxId: string, options: ExecOptions): Promise<ExecResult> {
    this.check(sandboxId);
    this.execs.push(options);
    const [bin, , script = "", , arg = ""] = options.argv;
    const done = (r: Partial<ExecResult>): Promise<ExecResult> =>
      Promise.resolve({
        exitCode: 0,
        stdout: new Uint8Array(),
        stderr: new Uint8Array(),
        timedOut: false,
        outputTruncated: false,
        durationMs: 1,
        signal: "",
        ...r,
      });
    if (script.startsWith("# sluice:probe")) return done({ stdout: Buffer.from(this.probe(arg)) });
    if (script.startsWith("# sluice:list")) return done({ stdout: Buffer.from(this.list(arg)) });
    if (script.startsWith("# sluice:remove")) {
      this.files.delete(arg);
      this.links.delete(arg);
      return done({});
    }
    if (bin === "/bin/bash") return done(this.bash(arg, options));
    throw new Error(`fake backend cannot run ${options.argv.join(" ")}`);
  }

  writeFile(sandboxId: string, path: string, content: Uint8Array): Promise<void> {
    this.check(sandboxId);
    const rel = this.hostCheck(path);
    if (this.dirs.has(rel)) throw new ValidationError(`cannot write to a directory: ${path}`);
    this.put(rel, Buffer.from(content));
    return Promise.resolve();
  }

  readFile(sandboxId: string, path: string, maxBytes: number): Promise<ReadFileResult> {
    this.check(sandboxId);
    const rel = this.hostCheck(path);
    if (this.dirs.has(rel)) throw new ValidationError(`cannot read a directory: ${path}`);
    const content = this.files.get(rel);
    if (!content) throw new SandboxFileNotFoundError(sandboxId, path);
    const limit = maxBytes > 0 ? maxBytes : 8 * 1024 * 1024;
    return Promise.resolve({ content: content.subarray(0, limit), truncated: content.length > limit });
  }

  destroy(sandboxId: string): Promise<void> {
    this.check(sandboxId);
    this.sandboxes.delete(sandboxId);
    return Promise.resolve();
  }

  liveCount(): number {
    return this.sandboxes.size;
  }

  capabilities(): readonly string[] {
    return [];
  }

  close(): Promise<void> {
    this.sandboxes.clear();
    return Promise.resolve();
  }

  private check(sandboxId: string): void {
    if (!this.sandboxes.has(sandboxId)) throw new SandboxNotFoundError(sandboxId);
  }

  /** Like the real backend's host-side check: the resolved path must stay in the workspace. */
  private hostCheck(path: string): string {
    const rel = this.rel(this.realpath(posix.join(ROOT, path)));
    if (rel === undefined) throw new ValidationError(`path resolves outside the workspace: ${path}`);
    return rel;
  }

  private rel(abs: string): string | undefined {
    if (abs === ROOT) return "";
    return abs.startsWith(`${ROOT}/`) ? abs.slice(ROOT.length + 1) : undefined;
  }

  /** `realpath -m`: resolves links component by component; missing parts are kept as they are. */
  private realpath(abs: string, depth = 0): string {
    if (depth > 40) throw new Error("symlink loop");
    let cur = "/";
    const parts = abs.split("/").filter((p) => p !== "");
    for (let i = 0; i < parts.length; i++) {
      const next = posix.join(cur, parts[i] ?? "");
      const rel = this.rel(next);
      const target = rel === undefined ? undefined : this.links.get(rel);
      cur = target === undefined ? next : this.realpath(posix.resolve(cur, target), depth + 1);
    }
    return cur;
  }

  private kindOf(abs: string): string {
    const real = this.realpath(abs);
    const rel = this.rel(real);
    if (rel === undefined) return "file"; // Pretend host files exist; the tools must not reach them.
    if (this.dirs.has(rel)) return "dir";
    if (this.files.has(rel)) return "file";
    const lexical = this.rel(posix.normalize(abs));
    return lexical !== undefined && this.links.has(lexical) ? "dangling" : "missing";
  }

  private probe(abs: string): string {
    let ancestor = posix.dirname(abs);
    while (this.kindOf(ancestor) === "missing") ancestor = posix.dirname(ancestor);
    const ak = this.kindOf(ancestor) === "dir" ? "dir" : "notdir";
    return [this.kindOf(abs), this.realpath(abs), ancestor, ak, ""].join("\0");
  }

  private list(absDir: string): string {
    const base = this.rel(this.realpath(absDir)) ?? "";
    const all = [...this.dirs, ...this.files.keys()].filter((p) => p !== base);
    const out = ["."];
    for (const p of all) {
      const sub = base === "" ? p : p.startsWith(`${base}/`) ? p.slice(base.length + 1) : undefined;
      if (sub === undefined || sub.split("/").length > 2 || sub.split("/").some((s) => s.startsWith("."))) continue;
      out.push(`./${sub}`);
    }
    return out.map((e) => `${e}\0`).join("");
  }
}
