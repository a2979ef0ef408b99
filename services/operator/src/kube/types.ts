/** The few Kubernetes shapes the operator reads and writes, kept unstructured on purpose. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Which collection: apiVersion + kind (the REST path comes from the resource table). */
export interface ResourceType {
  apiVersion: string;
  kind: string;
}

export interface ObjectRef extends ResourceType {
  namespace?: string;
  name: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchHandle {
  /** Ends the watch; `done` then resolves. */
  stop(): void;
  /** Resolves when the server closes the stream; rejects with KubeApiError (410 when the version is too old). */
  done: Promise<void>;
}

/**
 * The seam between the operator and Kubernetes: the REST client in production, an in-memory
 * API server in unit tests. Every write the operator makes is one of these calls.
 */
export interface KubeApi {
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(type: ResourceType, options?: ListOptions): Promise<ListResult>;
  watch(
    type: ResourceType,
    options: ListOptions & { resourceVersion: string },
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
  ): WatchHandle;
  create(obj: KubeObject): Promise<KubeObject>;
  /** PUT with the object's resourceVersion: a 409 when someone else wrote in between. */
  replace(obj: KubeObject): Promise<KubeObject>;
  /** Server-side apply (field manager sluice-operator, force); `status` applies to the status subresource. */
  apply(obj: KubeObject, options?: { status?: boolean }): Promise<KubeObject>;
  delete(ref: ObjectRef): Promise<void>;
  /** Discovery: whether the server serves this kind (e.g. JobSet's CRD is installed). */
  serves(type: ResourceType): Promise<boolean>;
}

export function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace,
    name: obj.metadata.name,
  };
}

export function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
