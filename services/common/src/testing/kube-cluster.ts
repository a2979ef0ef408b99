import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeadlineError } from "../errors.js";
import { sleep } from "../deadline.js";
import { REPO_ROOT } from "../paths.js";
import { freePort } from "./nats-server.js";
import { failOnExit, run, startProcess, type ClusterProcess, type ExecResult } from "./kube-process.js";
import { kubeTools, kubeToolsMissing, type KubeTools } from "./kube-tools.js";

/** A simulated node (kwok): no kubelet, pods scheduled to it go Running and Ready. */
export interface KwokNode {
  name: string;
  cpu?: string;
  memory?: string;
  /** nvidia.com/gpu capacity; a node with GPUs also gets the GPU label and taint below. */
  gpus?: number;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
}

export const GPU_NODE_LABEL = "nvidia.com/gpu.present";
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" } as const;

export const DEFAULT_KWOK_NODES: KwokNode[] = [
  { name: "kwok-cpu-0", cpu: "32", memory: "128Gi" },
  { name: "kwok-gpu-0", cpu: "64", memory: "512Gi", gpus: 8 },
];

export interface StartKubeClusterOptions {
  /** Deployment, ReplicaSet, Job, garbage-collector, namespace and serviceaccount controllers; default true. */
  controllerManager?: boolean;
  /** kube-scheduler, so pods bind to nodes honouring selectors, taints and GPU requests; default true. */
  scheduler?: boolean;
  /** kwok simulating nodes and pod lifecycle; default true (needs the scheduler to matter). */
  kwok?: boolean;
  nodes?: KwokNode[];
  /**
   * kwok's pod-complete stage: pods owned by a Job go Succeeded right after Running (default
   * true). false leaves them Running, so a test decides when a Job finishes (patch the pod status).
   */
  completeJobPods?: boolean;
  /** Deadline of the whole start; default 120 s (two shared cores: kube-apiserver alone takes 5–20 s). */
  startupMs?: number;
  tools?: KubeTools;
}

export interface KubeCluster {
  /** https://127.0.0.1:PORT */
  server: string;
  /** Admin kubeconfig (group system:masters, static bearer token, TLS verified against caFile). */
  kubeconfig: string;
  token: string;
  caFile: string;
  /** Temp dir with pki/, logs/<process>.log, kubeconfigs; removed by stop(). */
  dir: string;
  tools: KubeTools;
  /** kubectl with the admin kubeconfig; never throws on a non-zero exit; deadline `timeoutMs` (default 60 s). */
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** A kubeconfig holding a TokenRequest token of `namespace/serviceAccount`: run a process with exactly its RBAC. */
  kubeconfigFor(namespace: string, serviceAccount: string): Promise<string>;
  stop(): Promise<void>;
}

const ADMIN_USER = "sluice-admin";

export async function startKubeCluster(options: StartKubeClusterOptions = {}): Promise<KubeCluster> {
  const tools = options.tools ?? kubeTools();
  const missing = kubeToolsMissing(tools);
  if (missing) throw new Error(missing);
  const deadline = Date.now() + (options.startupMs ?? 120_000);
  const left = (): number => Math.max(1, deadline - Date.now());
  const dir = mkdtempSync(join(tmpdir(), "sluice-kube-"));
  const logs = join(dir, "logs");
  const pki = join(dir, "pki");
  mkdirSync(logs);
  mkdirSync(pki);
  const procs: ClusterProcess[] = [];
  const stop = async (): Promise<void> => {
    // Reverse order: clients of the API server first, etcd last.
    for (const p of [...procs].reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const token = randomBytes(24).toString("hex");
    writeFileSync(join(dir, "tokens.csv"), `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`);
    const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(pki, "sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(pki, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));

    const etcd = await startEtcd(tools, dir, procs, left);
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const apiserver = startProcess("kube-apiserver", tools.kubeApiserver, apiserverArgs(dir, port, etcd), logs);
    procs.push(apiserver);
    await Promise.race([failOnExit(apiserver), waitReady(server, token, left())]);
    // The API server wrote a self-signed serving certificate with its CA into pki/ (--cert-dir);
    // the bundle is what clients verify against.
    const caFile = join(pki, "apiserver.crt");
    const kubeconfig = join(dir, "admin.kubeconfig");
    writeKubeconfig(kubeconfig, server, caFile, token);
    const kubectl = (args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> =>
      run(tools.kubectl, ["--kubeconfig", kubeconfig, ...args], o);

    if (options.controllerManager ?? true) {
      const kcm = startProcess("kube-controller-manager", tools.kubeControllerManager, kcmArgs(dir, kubeconfig), logs);
      procs.push(kcm);
      // The serviceaccount controller creating `default` proves the controllers run; pods need it.
      await Promise.race([failOnExit(kcm), waitKubectl(kubectl, ["get", "serviceaccount", "default"], left())]);
    }
    if (options.scheduler ?? true) {
      const args = ["--kubeconfig", kubeconfig, "--leader-elect=false", "--secure-port=0", "-v=0"];
      procs.push(startProcess("kube-scheduler", tools.kubeScheduler, args, logs));
    }
    if (options.kwok ?? true) {
      const stages = writeKwokStages(dir, options.completeJobPods ?? true);
      const kwok = startProcess("kwok", tools.kwok, await kwokArgs(kubeconfig, stages), logs);
      procs.push(kwok);
      const nodes = options.nodes ?? DEFAULT_KWOK_NODES;
      const created = await kubectl(["apply", "-f", "-"], {
        input: JSON.stringify(nodeList(nodes)),
        timeoutMs: left(),
      });
      if (created.code !== 0) throw new Error(`creating kwok nodes: ${created.stderr}`);
      const ready = ["wait", "--for=condition=Ready", "node", "--all", `--timeout=${Math.ceil(left() / 1000)}s`];
      const waited = await Promise.race([failOnExit(kwok), kubectl(ready, { timeoutMs: left() + 1_000 })]);
      if (waited.code !== 0) throw new Error(`kwok nodes not Ready: ${waited.stderr}\n${kwok.tail()}`);
    }

    const kubeconfigFor = async (namespace: string, serviceAccount: string): Promise<string> => {
      const r = await kubectl(["create", "token", serviceAccount, "-n", namespace, "--duration=24h"]);
      if (r.code !== 0) throw new Error(`token for ${namespace}/${serviceAccount}: ${r.stderr}`);
      const path = join(dir, `${namespace}.${serviceAccount}.kubeconfig`);
      writeKubeconfig(path, server, caFile, r.stdout.trim(), `${namespace}/${serviceAccount}`);
      return path;
    };
    return { server, kubeconfig, token, caFile, dir, tools, kubectl, kubeconfigFor, stop };
  } catch (err) {
    const logsTail = procs.map((p) => `--- ${p.name}\n${p.tail(15)}`).join("\n");
    await stop();
    if (err instanceof Error) err.message += `\n${logsTail}`;
    throw err;
  }
}

async function startEtcd(tools: KubeTools, dir: string, procs: ClusterProcess[], left: () => number): Promise<string> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const etcd = startProcess(
    "etcd",
    tools.etcd,
    [
      "--name=sluice-test",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=sluice-test=${peerUrl}`,
      // A throwaway store: fsync buys nothing and costs seconds on a busy shared disk.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    join(dir, "logs"),
  );
  procs.push(etcd);
  await Promise.race([failOnExit(etcd), pollHttp(`${url}/health`, left(), "etcd health")]);
  return url;
}

function apiserverArgs(dir: string, port: number, etcdUrl: string): string[] {
  const pki = join(dir, "pki");
  return [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    "--advertise-address=127.0.0.1",
    `--cert-dir=${pki}`,
    `--token-auth-file=${join(dir, "tokens.csv")}`,
    "--authorization-mode=RBAC",
    `--service-account-key-file=${join(pki, "sa.pub")}`,
    `--service-account-signing-key-file=${join(pki, "sa.key")}`,
    "--service-account-issuer=https://kubernetes.default.svc",
    "--service-cluster-ip-range=10.96.0.0/16",
    "--allow-privileged=true",
    // The `kubernetes` Service's endpoints would be the loopback address, which Endpoints reject.
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    "-v=0",
  ];
}

function kcmArgs(dir: string, kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    "--leader-elect=false",
    "--secure-port=0",
    "--use-service-account-credentials=false",
    `--service-account-private-key-file=${join(dir, "pki", "sa.key")}`,
    `--root-ca-file=${join(dir, "pki", "apiserver.crt")}`,
    // No cloud, no CNI: node IPAM and the cloud controllers have nothing to do.
    "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
    "-v=0",
  ];
}

const KWOK_STAGES_DIR = join(REPO_ROOT, "fixtures", "k8s", "kwok-stages");

/** kwok has no built-in behaviour: its Stage objects (from kwok's own "fast" set) go in a config file. */
function writeKwokStages(dir: string, completeJobPods: boolean): string {
  const files = ["node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-delete"];
  if (completeJobPods) files.push("pod-complete");
  const path = join(dir, "kwok-stages.yaml");
  writeFileSync(path, files.map((f) => readFileSync(join(KWOK_STAGES_DIR, `${f}.yaml`), "utf8")).join("\n---\n"));
  return path;
}

async function kwokArgs(kubeconfig: string, config: string): Promise<string[]> {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${config}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    "--node-ip=10.244.0.1",
    "--cidr=10.244.0.0/16",
    "--node-lease-duration-seconds=40",
    `--server-address=127.0.0.1:${await freePort()}`,
  ];
}

function nodeList(nodes: KwokNode[]): object {
  return {
    apiVersion: "v1",
    kind: "List",
    items: nodes.map((n) => {
      const gpus = n.gpus ?? 0;
      const capacity: Record<string, string> = { cpu: n.cpu ?? "32", memory: n.memory ?? "128Gi", pods: "250" };
      if (gpus > 0) capacity["nvidia.com/gpu"] = String(gpus);
      const taints = [...(n.taints ?? []), ...(gpus > 0 ? [GPU_TAINT] : [])];
      return {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: n.name,
          annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
          labels: {
            "kubernetes.io/hostname": n.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            type: "kwok",
            ...(gpus > 0 ? { [GPU_NODE_LABEL]: "true" } : {}),
            ...n.labels,
          },
        },
        spec: { taints },
        status: { capacity, allocatable: capacity },
      };
    }),
  };
}

function writeKubeconfig(path: string, server: string, caFile: string, token: string, user = ADMIN_USER): void {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "sluice-test", cluster: { server, "certificate-authority-data": b64(readFileSync(caFile)) } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: "sluice-test", context: { cluster: "sluice-test", user, namespace: "default" } }],
    "current-context": "sluice-test",
  };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
}

const b64 = (b: Buffer): string => b.toString("base64");

/** GET until 200, within `timeoutMs`. */
async function pollHttp(url: string, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(200);
  }
  throw new DeadlineError(what, timeoutMs);
}

/** /readyz of the API server (its certificate does not exist before it starts, so no CA check here). */
async function waitReady(server: string, token: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const status = await new Promise<number>((resolve) => {
      const req = request(`${server}/readyz`, {
        headers: { Authorization: `Bearer ${token}` },
        rejectUnauthorized: false,
        timeout: 2_000,
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(0));
      req.end();
    });
    if (status === 200) return;
    await sleep(250);
  }
  throw new DeadlineError("kube-apiserver /readyz", timeoutMs);
}

async function waitKubectl(
  kubectl: (args: string[], o?: { timeoutMs?: number }) => Promise<ExecResult>,
  args: string[],
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    const r = await kubectl(args, { timeoutMs: Math.max(1_000, Math.min(10_000, end - Date.now())) });
    if (r.code === 0) return;
    last = r.stderr.trim();
    await sleep(250);
  }
  throw new DeadlineError(`kubectl ${args.join(" ")} (last: ${last})`, timeoutMs);
}

export { kubeSkip, kubeTools, kubeToolsMissing, kubeToolVersions, type KubeTools } from "./kube-tools.js";
export { run as runCommand, type ExecResult } from "./kube-process.js";
