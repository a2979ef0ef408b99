import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { FIELD_MANAGER } from "../constants.js";
import { KubeApiError, isNotFound } from "../errors.js";
import { resourcePath } from "./resources.js";
import type {
  KubeApi,
  KubeObject,
  ListOptions,
  ListResult,
  ObjectRef,
  ResourceType,
  WatchEventType,
  WatchHandle,
} from "./types.js";

const REQUEST_TIMEOUT_MS = 15_000;
/** Server-side watch timeout: the server closes the stream and the informer re-watches. */
const WATCH_TIMEOUT_S = 300;

/**
 * KubeApi over the REST API. client-node supplies the KubeConfig (in-cluster service account,
 * kubeconfig files, auth plugins); the calls themselves are plain HTTP so that every one has a
 * deadline, server-side apply can target the status subresource, and failures become typed
 * KubeApiErrors carrying verb, path and status.
 */
export class RestKubeApi implements KubeApi {
  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
    private readonly fieldManager = FIELD_MANAGER,
  ) {}

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return await this.call<KubeObject>("GET", resourcePath(ref, ref.namespace, ref.name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(type: ResourceType, options: ListOptions = {}): Promise<ListResult> {
    const query = options.labelSelector ? `?labelSelector=${encodeURIComponent(options.labelSelector)}` : "";
    const body = await this.call<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(
      "GET",
      resourcePath(type, options.namespace) + query,
    );
    // List items come without apiVersion/kind; restore them so callers can treat items as objects.
    const items = body.items.map((i) => ({ ...i, apiVersion: type.apiVersion, kind: type.kind }));
    return { items, resourceVersion: body.metadata.resourceVersion };
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.call("POST", resourcePath(obj, obj.metadata.namespace), obj);
  }

  replace(obj: KubeObject): Promise<KubeObject> {
    return this.call("PUT", resourcePath(obj, obj.metadata.namespace, obj.metadata.name), obj);
  }

  apply(obj: KubeObject, options: { status?: boolean } = {}): Promise<KubeObject> {
    const path = resourcePath(obj, obj.metadata.namespace, obj.metadata.name) + (options.status ? "/status" : "");
    const query = `?fieldManager=${this.fieldManager}&force=true`;
    return this.call("PATCH", path + query, obj, "application/apply-patch+yaml");
  }

  async delete(ref: ObjectRef): Promise<void> {
    try {
      await this.call("DELETE", resourcePath(ref, ref.namespace, ref.name), { propagationPolicy: "Background" });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async serves(type: ResourceType): Promise<boolean> {
    const base = type.apiVersion.includes("/") ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
    try {
      const body = await this.call<{ resources: { kind: string }[] }>("GET", base);
      return body.resources.some((r) => r.kind === type.kind);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  watch(
    type: ResourceType,
    options: ListOptions & { resourceVersion: string },
    onEvent: (type: WatchEventType, obj: KubeObject) => void,
  ): WatchHandle {
    const params = new URLSearchParams({
      watch: "1",
      allowWatchBookmarks: "true",
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(WATCH_TIMEOUT_S),
    });
    if (options.labelSelector) params.set("labelSelector", options.labelSelector);
    const path = `${resourcePath(type, options.namespace)}?${params}`;
    const abort = new AbortController();
    const done = this.open("GET", path, undefined, undefined, abort.signal, 0).then(
      (res) =>
        new Promise<void>((resolve, reject) => {
          let buffer = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buffer += chunk;
            for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
              const line = buffer.slice(0, nl).trim();
              buffer = buffer.slice(nl + 1);
              if (line === "") continue;
              const ev = JSON.parse(line) as { type: string; object: KubeObject & { code?: number; message?: string } };
              if (ev.type === "ERROR") {
                const status = ev.object.code ?? 500;
                reject(new KubeApiError("WATCH", path, status, "WatchError", ev.object.message ?? ""));
                res.destroy();
                return;
              }
              onEvent(ev.type as WatchEventType, ev.object);
            }
          });
          res.on("end", () => resolve());
          res.on("error", (err) => (abort.signal.aborted ? resolve() : reject(err)));
          res.on("close", () => resolve());
        }),
      (err: unknown) => {
        if (abort.signal.aborted) return;
        throw err;
      },
    );
    return { stop: () => abort.abort(), done };
  }

  /**
   * GETs a text endpoint (pod logs) and hands each chunk to `onData`; with a `signal` the stream
   * may stay open (follow) until aborted. Without one the request has the usual deadline.
   */
  async streamText(path: string, onData: (chunk: string) => void, signal?: AbortSignal): Promise<void> {
    const abort = new AbortController();
    signal?.addEventListener("abort", () => abort.abort(), { once: true });
    const res = await this.open("GET", path, undefined, undefined, abort.signal, signal ? 0 : this.timeoutMs);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readAll(res);
      throw new KubeApiError("GET", path, status, res.statusMessage ?? "", text.slice(0, 2000));
    }
    res.setEncoding("utf8");
    await new Promise<void>((resolve, reject) => {
      res.on("data", onData);
      res.on("end", resolve);
      res.on("close", resolve);
      res.on("error", (err) => (abort.signal.aborted ? resolve() : reject(err)));
    });
  }

  private async call<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const abort = new AbortController();
    const res = await this.open(method, path, body, contentType, abort.signal, this.timeoutMs);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      let reason = res.statusMessage ?? "";
      let message = text.slice(0, 2000);
      try {
        const s = JSON.parse(text) as { reason?: string; message?: string };
        reason = s.reason ?? reason;
        message = s.message ?? message;
      } catch {
        // not a Status object: keep the raw text
      }
      throw new KubeApiError(method, path, status, reason, message);
    }
    return (text === "" ? {} : JSON.parse(text)) as T;
  }

  /** Opens a request with the KubeConfig's server, TLS and credentials; `timeoutMs` 0 means no deadline. */
  private async open(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<IncomingMessage> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new KubeApiError(method, path, 0, "NoCluster", "the kubeconfig names no current cluster");
    const url = new URL(cluster.server);
    const opts: RequestOptions & { headers: Record<string, string> } = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname.replace(/\/$/, "") + path,
      headers: { accept: "application/json" },
      signal,
    };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      opts.headers["content-type"] = contentType ?? "application/json";
      opts.headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(opts, resolve);
      const fail = (err: Error): void =>
        reject(new KubeApiError(method, path, 0, "Transport", err.message, { cause: err }));
      req.on("error", fail);
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
      }
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => (text += c));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}
