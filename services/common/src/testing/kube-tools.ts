import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../paths.js";

/** The Kubernetes test binaries `scripts/k8s-tools.sh` builds. */
export interface KubeTools {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  helm: string;
}

const VERSIONS_FILE = join(REPO_ROOT, "scripts", "k8s-tools.versions");

/** `tool=version` lines of scripts/k8s-tools.versions (the one place versions are named). */
export function kubeToolVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(VERSIONS_FILE)) return out;
  for (const line of readFileSync(VERSIONS_FILE, "utf8").split("\n")) {
    const m = /^([a-z]+)=(\S+)$/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}

/**
 * Where the tools are: `$SLUICE_K8S_BIN` (every binary in one directory) or the version-keyed
 * cache the build script fills (same defaults as scripts/k8s-tools.sh).
 */
export function kubeTools(env: NodeJS.ProcessEnv = process.env): KubeTools {
  const one = env["SLUICE_K8S_BIN"];
  const cache = env["SLUICE_K8S_CACHE"] ?? join(env["SLUICE_CACHE_DIR"] ?? join(homedir(), ".cache", "sluice"), "k8s");
  const v = kubeToolVersions();
  const dir = (tool: string): string => one ?? join(cache, `${tool}-${v[tool] ?? "unknown"}`, "bin");
  const k8s = dir("kubernetes");
  return {
    etcd: join(dir("etcd"), "etcd"),
    kubeApiserver: join(k8s, "kube-apiserver"),
    kubeControllerManager: join(k8s, "kube-controller-manager"),
    kubeScheduler: join(k8s, "kube-scheduler"),
    kubectl: join(k8s, "kubectl"),
    kwok: join(dir("kwok"), "kwok"),
    helm: join(dir("helm"), "helm"),
  };
}

/** Why a test that needs the Kubernetes tools cannot run here, or false. */
export function kubeToolsMissing(tools: KubeTools = kubeTools()): string | false {
  const missing = Object.values(tools).filter((p) => !existsSync(p));
  if (missing.length === 0) return false;
  return `Kubernetes test tools not built (run scripts/k8s-tools.sh): missing ${missing.join(", ")}`;
}

/** Like `engineSkip`: pass as `{ skip: kubeSkip }` to a describe/it that needs a real API server. */
export const kubeSkip: string | false = kubeToolsMissing();
