import { randomBytes } from "node:crypto";
import { ValidationError, type Logger } from "@sluice/common";
import type {
  CreateSandboxOptions,
  ExecOptions,
  ExecResult,
  ReadFileResult,
  SandboxBackend,
  SandboxInfo,
} from "../backend.js";
import { SandboxFileNotFoundError, SandboxNotFoundError } from "../errors.js";
import type { PooledPod, SandboxPool } from "./pool.js";
import { packWorkspace } from "./workspace-archive.js";

export interface KubernetesBackendOptions {
  pool: SandboxPool;
  logger: Logger;
  /** Labels reported as enforced (the pod spec's hardening; runtime class when one is set). */
  runtimeClassName?: string;
  defaultTimeoutMs: number;
  defaultMaxOutputBytes: number;
  maxWorkspaceBytes: number;
}

/**
 * Sandboxes as pooled Kubernetes pods: create claims a warm pod and uploads the workspace,
 * commands and file I/O go to the pod's exec server, destroy resets the pod and returns it to
 * the pool. Host mounts (the local backend's read-only node_modules) cannot reach another node
 * and are refused: on Kubernetes the task image carries its environment.
 */
export class KubernetesSandboxBackend implements SandboxBackend {
  readonly kind = "kubernetes";
  private readonly sandboxes = new Map<string, PooledPod>();
  private readonly envs = new Map<string, Record<string, string>>();
  private readonly paths = new Map<string, readonly string[]>();

  constructor(private readonly o: KubernetesBackendOptions) {}

  async create(options: CreateSandboxOptions): Promise<SandboxInfo> {
    if (options.mounts && options.mounts.length > 0) {
      throw new ValidationError("the kubernetes sandbox backend has no host mounts; bake them into the task image");
    }
    const archive = await packWorkspace(options.workspaceSource, this.o.maxWorkspaceBytes);
    const pod = await this.o.pool.claim();
    try {
      await pod.client.upload(archive);
    } catch (err) {
      await this.o.pool.release(pod);
      throw err;
    }
    const id = `k8s-${randomBytes(6).toString("hex")}`;
    this.sandboxes.set(id, pod);
    this.envs.set(id, { ...options.env });
    this.paths.set(id, options.pathPrepend ?? []);
    this.o.logger.debug("sandbox pod claimed", { sandboxId: id, pod: pod.name, episodeId: options.episodeId });
    return { sandboxId: id, workspacePath: `${pod.name}:/workspace`, enforced: this.capabilities() };
  }

  async exec(sandboxId: string, options: ExecOptions): Promise<ExecResult> {
    const pod = this.pod(sandboxId);
    const env = { ...this.envs.get(sandboxId) };
    const prepend = this.paths.get(sandboxId) ?? [];
    if (prepend.length > 0) env.PATH = [...prepend, env.PATH ?? "/usr/local/bin:/usr/bin:/bin"].join(":");
    const r = await pod.client.exec({
      argv: [...options.argv],
      timeoutMs: options.timeoutMs || this.o.defaultTimeoutMs,
      stdinB64: Buffer.from(options.stdin).toString("base64"),
      maxOutputBytes: options.maxOutputBytes || this.o.defaultMaxOutputBytes,
      workdir: options.workdir,
      env,
    });
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: Buffer.from(r.stdoutB64, "base64"),
      stderr: Buffer.from(r.stderrB64, "base64"),
      timedOut: r.timedOut,
      outputTruncated: r.outputTruncated,
      durationMs: r.durationMs,
    };
  }

  async writeFile(sandboxId: string, path: string, content: Uint8Array): Promise<void> {
    await this.pod(sandboxId).client.writeFile(path, content);
  }

  async readFile(sandboxId: string, path: string, maxBytes: number): Promise<ReadFileResult> {
    const r = await this.pod(sandboxId).client.readFile(path, maxBytes || 1024 * 1024);
    if (!r.found) throw new SandboxFileNotFoundError(sandboxId, path);
    return { content: r.content, truncated: r.truncated };
  }

  async destroy(sandboxId: string): Promise<void> {
    const pod = this.pod(sandboxId);
    this.sandboxes.delete(sandboxId);
    this.envs.delete(sandboxId);
    this.paths.delete(sandboxId);
    await this.o.pool.release(pod);
  }

  liveCount(): number {
    return this.sandboxes.size;
  }

  capabilities(): readonly string[] {
    return [
      "pod:non-root",
      "pod:caps-dropped",
      "pod:no-privilege-escalation",
      "pod:read-only-root",
      "seccomp:RuntimeDefault",
      "net:networkpolicy",
      "limits:cpu,memory,ephemeral-storage",
      "no-service-account-token",
      ...(this.o.runtimeClassName ? [`runtimeClass:${this.o.runtimeClassName}`] : []),
    ];
  }

  async close(): Promise<void> {
    this.sandboxes.clear();
    await this.o.pool.close();
  }

  private pod(sandboxId: string): PooledPod {
    const p = this.sandboxes.get(sandboxId);
    if (!p) throw new SandboxNotFoundError(sandboxId);
    return p;
  }
}
