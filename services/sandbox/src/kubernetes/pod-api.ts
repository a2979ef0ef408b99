/** What a sandbox pool needs from Kubernetes: a seam with an in-cluster client and a fake. */
export interface SandboxPodState {
  phase: string;
  ready: boolean;
  podIP?: string;
}

export interface PodApi {
  create(pod: Record<string, unknown>): Promise<void>;
  /** Missing pods are fine. */
  delete(name: string): Promise<void>;
  get(name: string): Promise<SandboxPodState | undefined>;
}
