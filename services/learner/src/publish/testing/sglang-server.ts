import { existsSync, readdirSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { TestHttpServer, notFoundRoute, sendJson, type SeenRequest } from "./http-server.js";

export interface SglangTestServerOptions {
  /** --model-path at launch; default "/models/base". */
  modelPath?: string;
  /** --served-model-name; default "policy". */
  servedModelName?: string;
}

/**
 * A local stand-in for SGLang's HTTP server, following sglang/srt/entrypoints/http_server.py:
 * POST /update_weights_from_disk loads a checkpoint directory (config.json and *.safetensors
 * here) and answers {"success", "message", "num_paused_requests"} with 200, or 400 with
 * success=false when loading fails (the old weights stay); a body without model_path is
 * FastAPI's 422. GET /get_model_info and /get_weight_version report what is loaded;
 * /v1/chat/completions accepts the served model name.
 */
export class SglangTestServer {
  modelPath: string;
  weightVersion: string | null = null;
  readonly servedModelName: string;
  /** Every successful update, in order. */
  readonly loads: { modelPath: string; loadFormat?: string; weightVersion?: string }[] = [];
  private constructor(
    readonly http: TestHttpServer,
    o: SglangTestServerOptions,
  ) {
    this.modelPath = o.modelPath ?? "/models/base";
    this.servedModelName = o.servedModelName ?? "policy";
  }

  static async start(o: SglangTestServerOptions = {}): Promise<SglangTestServer> {
    const late: { server?: SglangTestServer } = {};
    const http = await TestHttpServer.start((req, res) => late.server?.handle(req, res));
    late.server = new SglangTestServer(http, o);
    return late.server;
  }

  get url(): string {
    return this.http.url;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  private handle(req: SeenRequest, res: ServerResponse): void {
    const body = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const route = `${req.method} ${req.path}`;
    if (route === "POST /update_weights_from_disk") return this.update(body, res);
    if (route === "GET /get_model_info") {
      sendJson(res, 200, { model_path: this.modelPath, tokenizer_path: this.modelPath, is_generation: true });
      return;
    }
    if (route === "GET /get_weight_version") {
      sendJson(res, 200, { weight_version: this.weightVersion });
      return;
    }
    if (route === "POST /v1/chat/completions") {
      if (body.model !== this.servedModelName) {
        sendJson(res, 400, {
          object: "error",
          message: `The model \`${String(body.model)}\` does not exist.`,
          type: "BadRequestError",
          param: null,
          code: 400,
        });
        return;
      }
      sendJson(res, 200, {
        id: "chatcmpl-test",
        object: "chat.completion",
        model: this.servedModelName,
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      });
      return;
    }
    notFoundRoute(res);
  }

  private update(body: Record<string, unknown>, res: ServerResponse): void {
    const path = body.model_path;
    if (typeof path !== "string") {
      sendJson(res, 422, {
        detail: [{ type: "missing", loc: ["body", "model_path"], msg: "Field required", input: body }],
      });
      return;
    }
    const loadFormat = typeof body.load_format === "string" ? body.load_format : undefined;
    const files = existsSync(path) ? readdirSync(path) : [];
    const weights = files.filter((f) => f.endsWith(".safetensors") && !f.startsWith("adapter_"));
    let failure: string | undefined;
    if (!existsSync(path)) failure = `Failed to get weights iterator: ${path} (repo id) does not exist.`;
    else if (!files.includes("config.json")) failure = `Failed to get weights iterator: no config.json in ${path}.`;
    else if (weights.length === 0 && loadFormat !== "pt")
      failure = `Failed to get weights iterator: Cannot find any model weights with \`${path}\``;
    if (failure) {
      sendJson(res, 400, {
        success: false,
        message: `${failure}\nRolling back to original weights.`,
        num_paused_requests: 0,
      });
      return;
    }
    this.modelPath = path;
    const weightVersion = typeof body.weight_version === "string" ? body.weight_version : undefined;
    if (weightVersion !== undefined) this.weightVersion = weightVersion;
    this.loads.push({ modelPath: path, loadFormat, weightVersion });
    sendJson(res, 200, { success: true, message: "Succeeded to update model weights.", num_paused_requests: 0 });
  }
}
