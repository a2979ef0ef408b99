import { LABELS } from "../constants.js";
import { TYPES } from "../kube/resources.js";
import type { KubeApi, KubeObject } from "../kube/types.js";

/** Containers per component; the learner pod also runs the engine (`-c engine`). */
export const COMPONENT_CONTAINERS: Record<string, string[]> = {
  gateway: ["gateway"],
  actors: ["actors"],
  sandboxes: ["sandboxes"],
  reward: ["reward"],
  learner: ["learner", "engine"],
  inference: ["inference"],
};

export interface LogTarget {
  pod: string;
  container: string;
}

/** The pods of one component of an experiment, newest first; running ones before the rest. */
export async function logTargets(
  api: KubeApi,
  namespace: string,
  experiment: string,
  component: string,
  container?: string,
): Promise<LogTarget[]> {
  const containers = COMPONENT_CONTAINERS[component];
  if (!containers)
    throw new Error(`unknown component ${component}; one of ${Object.keys(COMPONENT_CONTAINERS).join(", ")}`);
  const c = container ?? containers[0]!;
  if (!containers.includes(c)) throw new Error(`component ${component} has containers ${containers.join(", ")}`);
  const { items } = await api.list(TYPES.pod, {
    namespace,
    labelSelector: `${LABELS.experiment}=${experiment},${LABELS.component}=${component}`,
  });
  const rank = (p: KubeObject): number => ((p.status as { phase?: string } | undefined)?.phase === "Running" ? 0 : 1);
  return items
    .sort(
      (a, b) =>
        rank(a) - rank(b) || (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""),
    )
    .map((p) => ({ pod: p.metadata.name, container: c }));
}

export function logPath(namespace: string, t: LogTarget, o: { follow?: boolean; tailLines?: number }): string {
  const q = new URLSearchParams({ container: t.container });
  if (o.follow) q.set("follow", "true");
  if (o.tailLines !== undefined) q.set("tailLines", String(o.tailLines));
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(t.pod)}/log?${q}`;
}
