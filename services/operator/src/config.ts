/** How the operator runs its children: cluster-level settings the chart passes, not per experiment. */
export interface OperatorConfig {
  /** Image of the TypeScript services (gateway, actors, sandboxes, reward, learner). */
  image: string;
  /** Image of the Python engine (CUDA PyTorch); default: `image`. */
  engineImage: string;
  vllmImage: string;
  sglangImage: string;
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  /** NATS every experiment talks to (the chart's in-cluster NATS or an existing one). */
  natsUrl: string;
  /**
   * Where the learner keeps checkpoints. A PersistentVolumeClaim per experiment (owned by it, so
   * deleted with it) lets a suspended or restarted learner resume; emptyDir loses them.
   */
  runVolume: { kind: "pvc"; size: string; storageClassName?: string } | { kind: "emptyDir" };
  /** A finalizer that cannot clean up within this long (from deletionTimestamp) gives up and lets go. */
  finalizerTimeoutMs: number;
  /** Progress (step, policy version, checkpoint) is read and written at most this often per experiment. */
  progressIntervalMs: number;
  /** Watch only this namespace; empty: every namespace. */
  watchNamespace: string;
  /** The chart's ClusterRole for sandbox services (pods create/get/delete); empty: no sandbox identity. */
  sandboxRole: string;
  /** Default runtimeClassName of sandbox pods (gVisor / Kata); a pool's own setting wins. */
  sandboxRuntimeClass: string;
  /** Defaults for pods that ask for GPUs (the chart's `gpu` values): placement on GPU nodes. */
  gpu: GpuDefaults;
}

export interface GpuDefaults {
  /** The extended resource GPUs are counted in (nvidia.com/gpu, amd.com/gpu, ...). */
  resourceName: string;
  nodeSelector: Record<string, string>;
  tolerations: Record<string, unknown>[];
}

export const DEFAULT_OPERATOR_CONFIG: OperatorConfig = {
  image: "ghcr.io/sluice-rl/sluice:0.1.0",
  engineImage: "ghcr.io/sluice-rl/sluice-engine:0.1.0",
  vllmImage: "vllm/vllm-openai:v0.11.0",
  sglangImage: "lmsysorg/sglang:v0.5.4",
  imagePullPolicy: "IfNotPresent",
  natsUrl: "nats://nats:4222",
  runVolume: { kind: "pvc", size: "20Gi" },
  finalizerTimeoutMs: 120_000,
  progressIntervalMs: 15_000,
  watchNamespace: "",
  gpu: { resourceName: "nvidia.com/gpu", nodeSelector: {}, tolerations: [] },
  sandboxRole: "",
  sandboxRuntimeClass: "",
};

/** Reads SLUICE_OPERATOR_* environment variables over the defaults (the chart sets them). */
export function operatorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const c = { ...DEFAULT_OPERATOR_CONFIG };
  const s = (name: string): string | undefined => {
    const v = env[`SLUICE_OPERATOR_${name}`];
    return v === undefined || v === "" ? undefined : v;
  };
  c.image = s("IMAGE") ?? c.image;
  c.engineImage = s("ENGINE_IMAGE") ?? c.engineImage;
  c.vllmImage = s("VLLM_IMAGE") ?? c.vllmImage;
  c.sglangImage = s("SGLANG_IMAGE") ?? c.sglangImage;
  const pull = s("IMAGE_PULL_POLICY");
  if (pull === "Always" || pull === "IfNotPresent" || pull === "Never") c.imagePullPolicy = pull;
  c.natsUrl = s("NATS_URL") ?? c.natsUrl;
  c.watchNamespace = s("WATCH_NAMESPACE") ?? c.watchNamespace;
  c.sandboxRole = s("SANDBOX_ROLE") ?? c.sandboxRole;
  c.sandboxRuntimeClass = s("SANDBOX_RUNTIME_CLASS") ?? c.sandboxRuntimeClass;
  const volume = s("RUN_VOLUME");
  if (volume === "emptyDir") c.runVolume = { kind: "emptyDir" };
  else if (volume !== undefined) c.runVolume = { kind: "pvc", size: volume, storageClassName: s("STORAGE_CLASS") };
  const ms = (name: string, fallback: number): number => {
    const v = Number(s(name));
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  const gpu = s("GPU_DEFAULTS");
  if (gpu !== undefined) {
    const g = JSON.parse(gpu) as Partial<GpuDefaults>;
    c.gpu = {
      resourceName: g.resourceName || c.gpu.resourceName,
      nodeSelector: g.nodeSelector ?? {},
      tolerations: g.tolerations ?? [],
    };
  }
  c.finalizerTimeoutMs = ms("FINALIZER_TIMEOUT_MS", c.finalizerTimeoutMs);
  c.progressIntervalMs = ms("PROGRESS_INTERVAL_MS", c.progressIntervalMs);
  return c;
}
