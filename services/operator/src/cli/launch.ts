import { rlExperimentSpecSchema } from "@sluice/common";
import { parseDocument } from "yaml";
import { API_VERSION, KIND } from "../constants.js";
import { InvalidExperimentError } from "../errors.js";
import type { KubeObject } from "../kube/types.js";

export interface LaunchOptions {
  namespace?: string;
  /** Overrides metadata.name of the file. */
  name?: string;
}

/**
 * The RLExperiment for a local spec file (the file `sluice up -f` reads: an RLExperiment
 * manifest). The spec goes to the cluster as written, without zod's defaults filled in — the
 * operator applies the same defaults when it parses it, and a stored object then means what its
 * author wrote — but it is validated here first so a bad file fails before it reaches the cluster.
 */
export function experimentFromFile(text: string, source: string, o: LaunchOptions = {}): KubeObject {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new InvalidExperimentError(
      source,
      doc.errors.map((e) => e.message.split("\n")[0] ?? ""),
    );
  const raw = doc.toJS() as {
    apiVersion?: string;
    kind?: string;
    metadata?: Record<string, unknown>;
    spec?: unknown;
  } | null;
  if (!raw || typeof raw !== "object") throw new InvalidExperimentError(source, ["the file holds no YAML object"]);
  if (raw.kind !== undefined && raw.kind !== KIND)
    throw new InvalidExperimentError(source, [`kind is ${raw.kind}, not ${KIND}`]);
  const name = o.name ?? (raw.metadata?.name as string | undefined);
  if (!name || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) {
    throw new InvalidExperimentError(source, [
      `metadata.name ${JSON.stringify(name)} must be a DNS label (or pass --name)`,
    ]);
  }
  const parsed = rlExperimentSpecSchema.safeParse(raw.spec ?? {});
  if (!parsed.success) {
    throw new InvalidExperimentError(
      name,
      parsed.error.issues.map((i) => `spec${i.path.length ? "." + i.path.join(".") : ""}: ${i.message}`),
    );
  }
  const labels = raw.metadata?.labels as Record<string, string> | undefined;
  const namespace = o.namespace ?? (raw.metadata?.namespace as string | undefined);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) },
    spec: raw.spec as Record<string, unknown>,
  };
}
