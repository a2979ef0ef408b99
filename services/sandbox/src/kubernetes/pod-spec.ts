import { EXEC_PORT, EXEC_PATHS } from "./exec-protocol.js";

/**
 * Labels of sandbox pods. The operator's NetworkPolicy selects them by these values (see
 * services/operator/src/children/sandbox-network-policy.ts): keep the two in step.
 */
export const SANDBOX_POD_LABELS = {
  experiment: "sluice.dev/experiment",
  component: "app.kubernetes.io/component",
  pool: "sluice.dev/sandbox-pool",
} as const;
export const SANDBOX_POD_COMPONENT = "sandbox-pod";

export interface SandboxPodOptions {
  name: string;
  namespace: string;
  experiment: string;
  /** The pool (one per sandbox service pod) that owns this pod. */
  pool: string;
  /** The task's image: it runs unmodified, the exec server is copied in beside it. */
  image: string;
  /** The sandbox service's image: node and the exec server come from it. */
  execImage: string;
  token: string;
  runtimeClassName?: string;
  activeDeadlineSeconds?: number;
  limits: { cpu: string; memory: string; ephemeralStorage: string };
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  /** The sandbox service pod: sandbox pods are garbage-collected when it goes. */
  owner?: { name: string; uid: string };
}

const UID = 65532;
const SLUICE_DIR = "/sluice";

/**
 * A hardened sandbox pod: non-root, every capability dropped, no privilege escalation, seccomp
 * RuntimeDefault, read-only root filesystem with size-capped writable /workspace and /tmp, no
 * service-account token, no service links, optional runtimeClassName (gVisor / Kata), limits on
 * CPU, memory and ephemeral storage, and an active deadline. Isolation on the network is the
 * NetworkPolicy's job (ingress only from the sandbox service, no egress).
 */
export function sandboxPod(o: SandboxPodOptions): Record<string, unknown> {
  const limits = { cpu: o.limits.cpu, memory: o.limits.memory, "ephemeral-storage": o.limits.ephemeralStorage };
  const hardened = {
    runAsNonRoot: true,
    runAsUser: UID,
    runAsGroup: UID,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: {
        [SANDBOX_POD_LABELS.experiment]: o.experiment,
        [SANDBOX_POD_LABELS.component]: SANDBOX_POD_COMPONENT,
        [SANDBOX_POD_LABELS.pool]: o.pool,
        "app.kubernetes.io/managed-by": "sluice-sandbox",
      },
      ...(o.owner
        ? {
            ownerReferences: [
              { apiVersion: "v1", kind: "Pod", name: o.owner.name, uid: o.owner.uid, controller: false },
            ],
          }
        : {}),
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      terminationGracePeriodSeconds: 5,
      ...(o.runtimeClassName ? { runtimeClassName: o.runtimeClassName } : {}),
      ...(o.activeDeadlineSeconds ? { activeDeadlineSeconds: o.activeDeadlineSeconds } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: UID,
        runAsGroup: UID,
        fsGroup: UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      initContainers: [
        {
          // Copies node and the exec server into a shared volume: the task image stays as it is.
          name: "install-exec-server",
          image: o.execImage,
          command: ["/bin/sh", "-c", `cp "$(command -v node)" ${SLUICE_DIR}/node && cp -R /app ${SLUICE_DIR}/app`],
          securityContext: hardened,
          resources: { limits: { cpu: "500m", memory: "256Mi" } },
          volumeMounts: [{ name: "sluice", mountPath: SLUICE_DIR }],
        },
      ],
      containers: [
        {
          name: "sandbox",
          image: o.image,
          command: [`${SLUICE_DIR}/node`, `${SLUICE_DIR}/app/services/sandbox/dist/kubernetes/exec-server-main.js`],
          workingDir: "/workspace",
          env: [
            { name: "SLUICE_EXEC_TOKEN", value: o.token },
            { name: "SLUICE_WORKSPACE", value: "/workspace" },
            { name: "TMPDIR", value: "/tmp" },
            { name: "HOME", value: "/tmp" },
          ],
          ports: [{ name: "exec", containerPort: EXEC_PORT }],
          readinessProbe: { httpGet: { path: EXEC_PATHS.health, port: EXEC_PORT }, periodSeconds: 2 },
          securityContext: hardened,
          resources: { limits, requests: limits },
          volumeMounts: [
            { name: "sluice", mountPath: SLUICE_DIR, readOnly: true },
            { name: "workspace", mountPath: "/workspace" },
            { name: "tmp", mountPath: "/tmp" },
          ],
        },
      ],
      volumes: [
        { name: "sluice", emptyDir: { sizeLimit: "1Gi" } },
        { name: "workspace", emptyDir: { sizeLimit: o.limits.ephemeralStorage } },
        { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      ],
    },
  };
}
