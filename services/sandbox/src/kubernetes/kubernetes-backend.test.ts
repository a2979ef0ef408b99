import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createLogger } from "@sluice/common";
import { ExecClient } from "./exec-client.js";
import { startExecServer, type ExecServer } from "./exec-server.js";
import { KubernetesSandboxBackend } from "./kubernetes-backend.js";
import type { PodApi, SandboxPodState } from "./pod-api.js";
import { sandboxPod } from "./pod-spec.js";
import { SandboxPool } from "./pool.js";

const logger = createLogger({ experiment: "t", component: "sandbox-test", write: () => undefined });

/** A "cluster" whose pods are local exec servers: the pool and the backend run for real against them. */
class LocalPods implements PodApi {
  readonly servers = new Map<string, { server: ExecServer; dirs: string[] }>();
  readonly created: string[] = [];
  readonly deleted: string[] = [];
  async create(pod: Record<string, unknown>): Promise<void> {
    const meta = pod.metadata as { name: string };
    const env = (
      (pod.spec as { containers: { env: { name: string; value: string }[] }[] }).containers[0]!.env ?? []
    ).find((e) => e.name === "SLUICE_EXEC_TOKEN");
    const root = mkdtempSync(join(tmpdir(), "sluice-k8s-sandbox-"));
    const workspace = join(root, "workspace");
    const tmp = join(root, "tmp");
    mkdirSync(workspace);
    mkdirSync(tmp);
    const server = await startExecServer({
      host: "127.0.0.1",
      port: 0,
      token: env!.value,
      workspace,
      tmpDir: tmp,
      maxTimeoutMs: 5_000,
      maxOutputBytes: 1024 * 1024,
      maxBodyBytes: 16 * 1024 * 1024,
    });
    this.servers.set(meta.name, { server, dirs: [root] });
    this.created.push(meta.name);
  }
  async delete(name: string): Promise<void> {
    const s = this.servers.get(name);
    if (!s) return;
    this.servers.delete(name);
    this.deleted.push(name);
    await s.server.close();
    for (const d of s.dirs) rmSync(d, { recursive: true, force: true });
  }
  async get(name: string): Promise<SandboxPodState | undefined> {
    return this.servers.has(name) ? { phase: "Running", ready: true, podIP: "127.0.0.1" } : undefined;
  }
}

function setup(o: { warmPods?: number; maxPods?: number; maxUses?: number } = {}) {
  const pods = new LocalPods();
  const pool = new SandboxPool({
    pods,
    podFor: (name, token) =>
      sandboxPod({
        name,
        namespace: "ns",
        experiment: "exp",
        pool: "svc-0",
        image: "task:1",
        execImage: "sluice:1",
        token,
        limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "2Gi" },
      }),
    clientFor: (name, ip, token) => new ExecClient(ip, token, pods.servers.get(name)!.server.port),
    namePrefix: "exp-sbx",
    warmPods: o.warmPods ?? 1,
    maxPods: o.maxPods ?? 2,
    readyTimeoutMs: 5_000,
    pollMs: 10,
    createPerSecond: 1_000,
    maxUses: o.maxUses ?? 10,
    logger,
  });
  const backend = new KubernetesSandboxBackend({
    pool,
    logger,
    defaultTimeoutMs: 5_000,
    defaultMaxOutputBytes: 64 * 1024,
    maxWorkspaceBytes: 1024 * 1024,
  });
  return { pods, pool, backend };
}

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");
const exec = (argv: string[], timeoutMs = 5_000) => ({
  argv,
  timeoutMs,
  stdin: new Uint8Array(),
  maxOutputBytes: 0,
  workdir: "",
});

void describe("Kubernetes sandbox backend (pool of pods with exec servers)", () => {
  const src = mkdtempSync(join(tmpdir(), "sluice-k8s-src-"));
  writeFileSync(join(src, "a.txt"), "hello from the task\n");
  mkdirSync(join(src, "lib"));
  writeFileSync(join(src, "lib", "b.js"), "module.exports = 1;\n");
  after(() => rmSync(src, { recursive: true, force: true }));

  void it("claims a warm pod, uploads the workspace, runs commands and file I/O through the exec server", async () => {
    const { pool, backend } = setup();
    pool.refill();
    await pool.warmed(5_000);
    const sb = await backend.create({ workspaceSource: src, episodeId: "e1", env: { GREETING: "hi" } });
    assert.ok(sb.enforced.includes("seccomp:RuntimeDefault"));
    const r = await backend.exec(sb.sandboxId, exec(["sh", "-c", 'cat a.txt lib/b.js; echo "$GREETING"; pwd']));
    assert.equal(r.exitCode, 0, text(r.stderr));
    assert.match(text(r.stdout), /hello from the task\nmodule.exports = 1;\nhi\n/);
    await backend.writeFile(sb.sandboxId, "out/new.txt", Buffer.from("written"));
    assert.equal(text((await backend.readFile(sb.sandboxId, "out/new.txt", 0)).content), "written");
    await assert.rejects(backend.readFile(sb.sandboxId, "missing", 0), { name: "SandboxFileNotFoundError" });
    await assert.rejects(backend.readFile(sb.sandboxId, "../etc/passwd", 0));
    await backend.close();
  });

  void it("kills a command at its deadline (the whole process group)", async () => {
    const { backend } = setup();
    const sb = await backend.create({ workspaceSource: "", episodeId: "e2", env: {} });
    const r = await backend.exec(sb.sandboxId, exec(["sh", "-c", "sleep 30 & sleep 30"], 300));
    assert.equal(r.timedOut, true);
    assert.ok(r.durationMs < 5_000);
    await backend.close();
  });

  void it("resets a pod between episodes and reuses it; replaces it after maxUses; bounded by maxPods", async () => {
    const { pods, backend } = setup({ warmPods: 0, maxPods: 1, maxUses: 2 });
    const first = await backend.create({ workspaceSource: src, episodeId: "e1", env: {} });
    await backend.exec(first.sandboxId, exec(["sh", "-c", "echo leftover > /dev/null; touch mine"]));
    await assert.rejects(backend.create({ workspaceSource: "", episodeId: "e-over", env: {} }), {
      name: "SandboxCapacityError",
    });
    await backend.destroy(first.sandboxId);
    const second = await backend.create({ workspaceSource: "", episodeId: "e2", env: {} });
    assert.equal(pods.created.length, 1, "the same pod served the second episode");
    const ls = await backend.exec(second.sandboxId, exec(["ls", "-A"]));
    assert.equal(text(ls.stdout), "", "the reset emptied the workspace");
    await backend.destroy(second.sandboxId);
    assert.equal(pods.deleted.length, 1, "after maxUses the pod is replaced");
    await assert.rejects(backend.exec(second.sandboxId, exec(["true"])), { name: "SandboxNotFoundError" });
    await backend.close();
  });

  void it("refuses requests without the pod's token", async () => {
    const { pods, pool, backend } = setup();
    pool.refill();
    await pool.warmed(5_000);
    const [name] = [...pods.servers.keys()];
    const intruder = new ExecClient("127.0.0.1", "wrong-token", pods.servers.get(name!)!.server.port);
    await assert.rejects(
      intruder.exec({ argv: ["id"], timeoutMs: 1000, stdinB64: "", maxOutputBytes: 0, workdir: "", env: {} }),
      {
        name: "ExecServerError",
      },
    );
    await backend.close();
  });
});

void describe("sandboxPod", () => {
  void it("is hardened: non-root, no caps, no escalation, seccomp, read-only root, no token, limits, deadline", () => {
    const pod = sandboxPod({
      name: "p",
      namespace: "ns",
      experiment: "exp",
      pool: "svc-0",
      image: "task:1",
      execImage: "sluice:1",
      token: "t",
      runtimeClassName: "gvisor",
      activeDeadlineSeconds: 3600,
      limits: { cpu: "2", memory: "4Gi", ephemeralStorage: "10Gi" },
    }) as { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    const spec = pod.spec;
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.runtimeClassName, "gvisor");
    assert.equal(spec.activeDeadlineSeconds, 3600);
    const c = spec.containers[0]!;
    assert.equal(c.image, "task:1", "the task image runs unmodified");
    assert.deepEqual((c.securityContext as { capabilities: unknown }).capabilities, { drop: ["ALL"] });
    assert.equal((c.securityContext as { runAsNonRoot: boolean }).runAsNonRoot, true);
    assert.equal((c.securityContext as { allowPrivilegeEscalation: boolean }).allowPrivilegeEscalation, false);
    assert.equal((c.securityContext as { readOnlyRootFilesystem: boolean }).readOnlyRootFilesystem, true);
    assert.deepEqual((c.securityContext as { seccompProfile: unknown }).seccompProfile, { type: "RuntimeDefault" });
    assert.deepEqual((c.resources as { limits: unknown }).limits, {
      cpu: "2",
      memory: "4Gi",
      "ephemeral-storage": "10Gi",
    });
  });
});
