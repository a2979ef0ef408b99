import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { ZodError } from "zod";
import { SpecError } from "../errors.js";
import { experimentManifestSchema, type ExperimentManifest } from "./schema.js";
import { kubernetesBlocksSchema } from "./kubernetes.js";

/**
 * Blocks only an RLExperiment on Kubernetes uses. A file may carry them, so one file serves both
 * `kubectl apply` and `sluice up`: they are validated here and left out of the local spec.
 */
const KUBERNETES_ONLY = kubernetesBlocksSchema.shape;

function splitKubernetesBlocks(raw: unknown): { local: unknown; kube: Record<string, unknown> } {
  if (typeof raw !== "object" || raw === null || !("spec" in raw)) return { local: raw, kube: {} };
  const spec = (raw as { spec: unknown }).spec;
  if (typeof spec !== "object" || spec === null) return { local: raw, kube: {} };
  const local: Record<string, unknown> = {};
  const kube: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) (k in KUBERNETES_ONLY ? kube : local)[k] = v;
  return { local: { ...raw, spec: local }, kube };
}

/** Parses and validates a manifest; every problem names its field path. */
export function parseExperimentManifest(text: string, source = "<inline>"): ExperimentManifest {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new SpecError(
      source,
      doc.errors.map((e) => `YAML syntax at line ${e.linePos?.[0]?.line ?? "?"}: ${e.message.split("\n")[0]}`),
    );
  }
  const { local, kube } = splitKubernetesBlocks(doc.toJS());
  const result = experimentManifestSchema.safeParse(local);
  const kubeResult = kubernetesBlocksSchema.safeParse(kube);
  const issues = [
    ...(result.success ? [] : formatIssues(result.error)),
    ...(kubeResult.success ? [] : formatIssues(kubeResult.error, ["spec"])),
  ];
  if (!result.success || issues.length > 0) throw new SpecError(source, issues);
  return result.data;
}

export function loadExperimentManifest(path: string): ExperimentManifest {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new SpecError(path, [`cannot read file: ${(cause as Error).message}`], { cause });
  }
  return parseExperimentManifest(text, path);
}

function formatIssues(error: ZodError, prefix: PropertyKey[] = []): string[] {
  return error.issues.map((issue) => {
    const full = [...prefix, ...issue.path];
    const path = full.length > 0 ? full.join(".") : "(root)";
    if (issue.code === "unrecognized_keys") return `${path}: unknown field(s) ${issue.keys.join(", ")}`;
    return `${path}: ${issue.message}`;
  });
}
