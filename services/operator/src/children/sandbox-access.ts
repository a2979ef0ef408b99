import type { KubeObject } from "../kube/types.js";
import { TYPES } from "../kube/resources.js";
import { childName } from "./names.js";
import { meta, type BuildContext } from "./workloads.js";

/**
 * Labels of the sandbox service's pods (the Kubernetes sandbox backend): they must match
 * services/sandbox/src/kubernetes/pod-spec.ts SANDBOX_POD_LABELS.
 */
export const SANDBOX_POD_COMPONENT = "sandbox-pod";
export const SANDBOX_EXEC_PORT = 7070;

/**
 * Default-deny for the experiment's sandbox pods: ingress only from its sandbox service on the
 * exec-server port, no egress at all (no DNS, no internet, no cluster services).
 */
export function sandboxNetworkPolicy(ctx: BuildContext): KubeObject {
  const exp = ctx.exp.name;
  return {
    apiVersion: TYPES.networkPolicy.apiVersion,
    kind: TYPES.networkPolicy.kind,
    metadata: meta(ctx, childName(ctx.exp, "sandbox-pods"), "sandboxes"),
    spec: {
      podSelector: {
        matchLabels: { "sluice.dev/experiment": exp, "app.kubernetes.io/component": SANDBOX_POD_COMPONENT },
      },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            {
              podSelector: {
                matchLabels: { "sluice.dev/experiment": exp, "app.kubernetes.io/component": "sandboxes" },
              },
            },
          ],
          ports: [{ protocol: "TCP", port: SANDBOX_EXEC_PORT }],
        },
      ],
      egress: [],
    },
  };
}

/**
 * The sandbox service's identity: a ServiceAccount bound (in the experiment's namespace) to the
 * chart's sandbox ClusterRole, which allows pods create/get/delete and nothing else.
 */
export function sandboxServiceAccess(ctx: BuildContext, sandboxRole: string): KubeObject[] {
  const name = childName(ctx.exp, "sandboxes");
  return [
    {
      apiVersion: TYPES.serviceAccount.apiVersion,
      kind: TYPES.serviceAccount.kind,
      metadata: meta(ctx, name, "sandboxes"),
    },
    {
      apiVersion: TYPES.roleBinding.apiVersion,
      kind: TYPES.roleBinding.kind,
      metadata: meta(ctx, name, "sandboxes"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: sandboxRole },
      subjects: [{ kind: "ServiceAccount", name, namespace: ctx.exp.namespace }],
    },
  ];
}
