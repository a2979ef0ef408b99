/**
 * Strategic merge of a user's partial PodTemplateSpec onto the generated one, with the merge keys
 * Kubernetes declares for pod fields: containers, volumes, env and the like merge element-wise by
 * key (so `containers: [{name: learner, env: [...]}]` adds env to the learner container instead
 * of replacing every container); other lists replace; `null` deletes a field; an element with
 * `$patch: delete` is removed.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  imagePullSecrets: "name",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
};

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function strategicMerge(base: Json, patch: Json, field = ""): Json {
  if (patch === undefined) return base;
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(base)) return patch.filter((e) => !(isObject(e) && e.$patch === "delete"));
    return mergeList(base, patch, key);
  }
  if (!isObject(patch) || !isObject(base)) return patch;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicMerge(base[k], v, k);
  }
  return out;
}

function mergeList(base: Json[], patch: Json[], key: string): Json[] {
  const out = [...base];
  for (const p of patch) {
    if (!isObject(p) || p[key] === undefined) {
      out.push(p);
      continue;
    }
    const i = out.findIndex((b) => isObject(b) && b[key] === p[key]);
    if (p.$patch === "delete") {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = strategicMerge(out[i], p);
    else out.push(p);
  }
  return out;
}
