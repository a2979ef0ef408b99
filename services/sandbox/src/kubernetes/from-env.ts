import type { Logger } from "@sluice/common";
import type { Registry } from "prom-client";
import { ExecClient } from "./exec-client.js";
import { InClusterPodApi } from "./in-cluster-pod-api.js";
import { KubernetesSandboxBackend } from "./kubernetes-backend.js";
import { sandboxPod } from "./pod-spec.js";
import { SandboxPool } from "./pool.js";
import { registerPoolMetrics } from "./pool-metrics.js";

/**
 * The Kubernetes backend as the sandbox service runs it in a cluster, configured by the
 * environment the operator gives the sandbox service pod (SLUICE_SANDBOX_K8S_*; the pod's own
 * name/uid/namespace through the downward API); chosen by spec.sandbox.backend: kubernetes.
 */
export function kubernetesBackendFromEnv(
  experiment: string,
  logger: Logger,
  registry: Registry,
  env: NodeJS.ProcessEnv = process.env,
): KubernetesSandboxBackend {
  const get = (name: string, fallback?: string): string => {
    const v = env[`SLUICE_SANDBOX_K8S_${name}`] ?? fallback;
    if (v === undefined) throw new Error(`SLUICE_SANDBOX_K8S_${name} is not set`);
    return v;
  };
  const namespace = get("NAMESPACE");
  const selfName = get("POD_NAME");
  const selfUid = env.SLUICE_SANDBOX_K8S_POD_UID;
  const runtimeClassName = env.SLUICE_SANDBOX_K8S_RUNTIME_CLASS || undefined;
  const deadline = Number(get("ACTIVE_DEADLINE_SECONDS", "0"));
  const pool = new SandboxPool({
    pods: new InClusterPodApi(namespace),
    podFor: (name, token) =>
      sandboxPod({
        name,
        namespace,
        experiment,
        pool: selfName,
        image: get("IMAGE"),
        execImage: get("EXEC_IMAGE"),
        token,
        runtimeClassName,
        ...(deadline > 0 ? { activeDeadlineSeconds: deadline } : {}),
        limits: {
          cpu: get("CPU", "2"),
          memory: get("MEMORY", "4Gi"),
          ephemeralStorage: get("EPHEMERAL_STORAGE", "10Gi"),
        },
        ...(selfUid ? { owner: { name: selfName, uid: selfUid } } : {}),
      }),
    clientFor: (_name, ip, token) => new ExecClient(ip, token),
    namePrefix: `${experiment}-sbx`,
    warmPods: Number(get("WARM_PODS", "0")),
    maxPods: Number(get("MAX_PODS", "64")),
    readyTimeoutMs: Number(get("READY_TIMEOUT_MS", "300000")),
    pollMs: 500,
    createPerSecond: Number(get("CREATE_PER_SECOND", "5")),
    maxUses: Number(get("MAX_USES", "50")),
    logger,
  });
  registerPoolMetrics(registry, pool, Number(get("WARM_PODS", "0")));
  pool.refill();
  return new KubernetesSandboxBackend({
    pool,
    logger,
    runtimeClassName,
    defaultTimeoutMs: Number(get("COMMAND_TIMEOUT_MS", "60000")),
    defaultMaxOutputBytes: Number(get("MAX_OUTPUT_BYTES", String(64 * 1024))),
    maxWorkspaceBytes: Number(get("MAX_WORKSPACE_BYTES", String(256 * 1024 * 1024))),
  });
}
