import { PublishError } from "./errors.js";
import { endpoint, postJson, truncate, type HttpPolicy } from "./http.js";

/** Body of SGLang's `POST /update_weights_from_disk` (UpdateWeightFromDiskReqInput). */
export interface UpdateWeightsFromDiskRequest {
  /** Directory of the new weights (a Hugging Face checkpoint of the served architecture). */
  model_path: string;
  /** Loader format (auto, safetensors, pt, …); omitted: the server's. */
  load_format?: string;
  /** A label SGLang reports as the weights' version (newer servers; others ignore it). */
  weight_version?: string;
}

/** Its answer: `{"success", "message"}` (+ `num_paused_requests` in newer servers). */
export interface UpdateWeightsFromDiskResponse {
  success: boolean;
  message: string;
  num_paused_requests?: number;
}

/**
 * SGLang's in-place weight update (sglang/srt/entrypoints/http_server.py,
 * docs.sglang.ai "SGLang Native APIs" → update_weights_from_disk): the server loads the
 * checkpoint at `model_path` into the running model and answers 200
 * `{"success": true, "message": "Succeeded to update model weights."}`; when loading fails
 * it rolls back to the old weights and answers 400 `{"success": false, "message": …}`.
 * A request without model_path is a FastAPI validation error (422 `{"detail": [...]}`).
 */
export class SglangClient {
  constructor(
    readonly baseUrl: string,
    private readonly policy: HttpPolicy,
  ) {}

  async updateWeightsFromDisk(
    req: UpdateWeightsFromDiskRequest,
    version?: number,
  ): Promise<UpdateWeightsFromDiskResponse> {
    const url = endpoint(this.baseUrl, "/update_weights_from_disk");
    const ans = await postJson(url, req, {
      backend: "sglang",
      policy: this.policy,
      context: { version, model_path: req.model_path },
    });
    const j = ans.json;
    const body =
      typeof j === "object" && j !== null && typeof (j as { success?: unknown }).success === "boolean"
        ? (j as UpdateWeightsFromDiskResponse)
        : undefined;
    if (ans.status === 200 && body?.success) return body;
    const ctx = { backend: "sglang" as const, url, status: ans.status, version, attempts: ans.attempts };
    if (body && !body.success) {
      throw new PublishError(
        `sglang did not load ${req.model_path} (the server keeps its previous weights): ${body.message}`,
        ctx,
      );
    }
    throw new PublishError(
      `sglang: unexpected answer to update_weights_from_disk: HTTP ${ans.status}: ${truncate(ans.text) || "(empty body)"}`,
      ctx,
    );
  }
}
