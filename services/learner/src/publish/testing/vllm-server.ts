import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestHttpServer, notFoundRoute, sendJson, type SeenRequest } from "./http-server.js";
import type { ServerResponse } from "node:http";

export interface VllmTestServerOptions {
  /** The base model's served name; default "base-model". */
  baseModel?: string;
  /** VLLM_ALLOW_RUNTIME_LORA_UPDATING: without it the LoRA routes are not mounted. Default true. */
  runtimeLoraUpdating?: boolean;
  /** --max-lora-rank; default 16. */
  maxLoraRank?: number;
  /** Error bodies in the pre-2025 flat shape {object, message, type, code}. Default false. */
  legacyErrors?: boolean;
  /** --api-key: requests must carry Authorization: Bearer <key>. */
  apiKey?: string;
}

/**
 * A local stand-in for vLLM's OpenAI-compatible server with runtime LoRA updating, following
 * vllm/entrypoints/openai/serving_models.py and api_server.py: load/unload_lora_adapter with
 * their checks and error answers, /v1/models listing adapters with their parent, and
 * /v1/chat/completions that accepts the base model or a loaded adapter's name as `model`.
 * An adapter "loads" when its directory holds adapter_config.json + adapter_model.safetensors.
 */
export class VllmTestServer {
  /** lora_name → lora_path of the loaded adapters. */
  readonly adapters = new Map<string, string>();
  readonly baseModel: string;
  private constructor(
    readonly http: TestHttpServer,
    private readonly o: VllmTestServerOptions,
  ) {
    this.baseModel = o.baseModel ?? "base-model";
  }

  static async start(o: VllmTestServerOptions = {}): Promise<VllmTestServer> {
    const late: { server?: VllmTestServer } = {};
    const http = await TestHttpServer.start((req, res) => late.server?.handle(req, res));
    late.server = new VllmTestServer(http, o);
    return late.server;
  }

  get url(): string {
    return this.http.url;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    sendJson(
      res,
      status,
      this.o.legacyErrors
        ? { object: "error", message, type, param: null, code: status }
        : { error: { message, type, param: null, code: status } },
    );
  }

  private handle(req: SeenRequest, res: ServerResponse): void {
    if (this.o.apiKey && req.path.startsWith("/v1") && req.authorization !== `Bearer ${this.o.apiKey}`) {
      sendJson(res, 401, { error: "Unauthorized" });
      return;
    }
    const lora = this.o.runtimeLoraUpdating ?? true;
    const body = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const route = `${req.method} ${req.path}`;
    if (route === "POST /v1/load_lora_adapter" && lora) return this.load(body, res);
    if (route === "POST /v1/unload_lora_adapter" && lora) return this.unload(body, res);
    if (route === "GET /v1/models") {
      const data = [
        { id: this.baseModel, object: "model", root: this.baseModel, parent: null },
        ...[...this.adapters].map(([id, path]) => ({ id, object: "model", root: path, parent: this.baseModel })),
      ];
      sendJson(res, 200, { object: "list", data });
      return;
    }
    if (route === "POST /v1/chat/completions") {
      const model = body.model;
      if (model !== this.baseModel && !(typeof model === "string" && this.adapters.has(model))) {
        this.error(res, 404, "NotFoundError", `The model \`${String(model)}\` does not exist.`);
        return;
      }
      sendJson(res, 200, {
        id: "chatcmpl-test",
        object: "chat.completion",
        model,
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      });
      return;
    }
    notFoundRoute(res);
  }

  private load(body: Record<string, unknown>, res: ServerResponse): void {
    const name = body.lora_name;
    const path = body.lora_path;
    if (typeof name !== "string" || typeof path !== "string" || !name || !path) {
      this.error(res, 400, "InvalidUserInput", "Both 'lora_name' and 'lora_path' must be provided.");
      return;
    }
    if (this.adapters.has(name)) {
      this.error(res, 400, "InvalidUserInput", `The lora adapter '${name}' has already been loaded.`);
      return;
    }
    const config = join(path, "adapter_config.json");
    if (!existsSync(config) || !existsSync(join(path, "adapter_model.safetensors"))) {
      this.error(res, 404, "NotFoundError", `Loading lora ${name} failed: No adapter found for ${path}`);
      return;
    }
    const rank = (JSON.parse(readFileSync(config, "utf8")) as { r?: number }).r ?? 0;
    const max = this.o.maxLoraRank ?? 16;
    if (rank > max) {
      this.error(res, 400, "BadRequestError", `LoRA rank ${rank} is greater than max_lora_rank ${max}.`);
      return;
    }
    this.adapters.set(name, path);
    res.writeHead(200, { "content-type": "text/plain" }).end(`Success: LoRA adapter '${name}' added successfully.`);
  }

  private unload(body: Record<string, unknown>, res: ServerResponse): void {
    const name = body.lora_name;
    if (typeof name !== "string" || !name) {
      this.error(res, 400, "InvalidUserInput", "either 'lora_name' and 'lora_int_id' needs to be provided.");
      return;
    }
    if (!this.adapters.has(name)) {
      this.error(res, 404, "NotFoundError", `The lora adapter '${name}' cannot be found.`);
      return;
    }
    this.adapters.delete(name);
    res.writeHead(200, { "content-type": "text/plain" }).end(`Success: LoRA adapter '${name}' removed successfully.`);
  }
}
