import { readFileSync } from "node:fs";
import { request } from "node:https";
import { SluiceError } from "@sluice/common";
import type { PodApi, SandboxPodState } from "./pod-api.js";

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const TIMEOUT_MS = 15_000;

/**
 * Pods in the sandbox service's namespace through the API server, with the pod's service-account
 * credentials (the chart's sandbox role: pods create/get/delete in that namespace). Plain HTTPS
 * on purpose: only the operator depends on the Kubernetes client library.
 */
export class InClusterPodApi implements PodApi {
  private readonly host: string;
  private readonly port: string;
  private readonly ca: Buffer;

  constructor(private readonly namespace: string) {
    this.host = process.env.KUBERNETES_SERVICE_HOST ?? "kubernetes.default.svc";
    this.port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
    this.ca = readFileSync(`${SA_DIR}/ca.crt`);
  }

  async create(pod: Record<string, unknown>): Promise<void> {
    await this.call("POST", `/api/v1/namespaces/${this.namespace}/pods`, pod);
  }

  async delete(name: string): Promise<void> {
    const status = await this.call(
      "DELETE",
      `/api/v1/namespaces/${this.namespace}/pods/${name}`,
      { gracePeriodSeconds: 0 },
      [404],
    );
    void status;
  }

  async get(name: string): Promise<SandboxPodState | undefined> {
    const body = await this.call("GET", `/api/v1/namespaces/${this.namespace}/pods/${name}`, undefined, [404]);
    if (body === undefined) return undefined;
    const s = (body as { status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] } })
      .status;
    return {
      phase: s?.phase ?? "Pending",
      podIP: s?.podIP,
      ready: (s?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    };
  }

  private call(method: string, path: string, body: unknown, okMissing: number[] = []): Promise<unknown> {
    // The token is re-read per call: projected tokens rotate.
    const token = readFileSync(`${SA_DIR}/token`, "utf8").trim();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          ca: this.ca,
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/json",
            ...(payload ? { "content-type": "application/json" } : {}),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (okMissing.includes(status)) return resolve(undefined);
            if (status < 200 || status >= 300) {
              return reject(
                new SluiceError(`${method} ${path}: ${status} ${text.slice(0, 300)}`, {
                  retryable: status >= 500 || status === 429,
                }),
              );
            }
            resolve(text ? JSON.parse(text) : {});
          });
        },
      );
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      req.on("error", (e) => reject(new SluiceError(`${method} ${path}: ${e.message}`, { retryable: true, cause: e })));
      req.end(payload);
    });
  }
}
