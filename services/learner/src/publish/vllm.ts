import { PublishError } from "./errors.js";
import { endpoint, getJson, postJson, truncate, type HttpAnswer, type HttpPolicy } from "./http.js";

/**
 * vLLM's runtime LoRA API (OpenAI-compatible server started with `--enable-lora` and
 * `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`; docs.vllm.ai "LoRA Adapters" → "Dynamically
 * serving LoRA Adapters"; vllm/entrypoints/openai/serving_models.py):
 *
 * - `POST /v1/load_lora_adapter {"lora_name", "lora_path"}` → 200 with a plain-text
 *   "Success: …" body; 400 (InvalidUserInput) when the name is already loaded or a field is
 *   missing; 404 (NotFoundError) when no adapter is found at the path; 400 for an adapter
 *   the engine rejects (rank over --max-lora-rank, unsupported modules).
 * - `POST /v1/unload_lora_adapter {"lora_name"}` → 200 plain text; 404 when the name is
 *   not loaded.
 * - Errors are JSON: `{"error": {"message", "type", "param", "code"}}` in current vLLM,
 *   `{"object": "error", "message", "type", "code"}` in older releases.
 * - Without VLLM_ALLOW_RUNTIME_LORA_UPDATING the routes do not exist: FastAPI's
 *   404 `{"detail": "Not Found"}`.
 * - A chat request names an adapter by putting its lora_name in `model`; `GET /v1/models`
 *   lists loaded adapters with `parent` set to the base model.
 */
export class VllmLoraClient {
  constructor(
    readonly baseUrl: string,
    private readonly policy: HttpPolicy,
  ) {}

  /** "exists": vLLM already has an adapter under this name (it was not replaced). */
  async loadAdapter(name: string, path: string, version?: number): Promise<"loaded" | "exists"> {
    const url = endpoint(this.baseUrl, "/v1/load_lora_adapter");
    const ans = await postJson(
      url,
      { lora_name: name, lora_path: path },
      { backend: "vllm", policy: this.policy, context: { version, lora_name: name } },
    );
    if (ans.status >= 200 && ans.status < 300) return "loaded";
    const err = vllmError(ans);
    if (ans.status === 400 && /already been loaded|already exists/i.test(err.message)) return "exists";
    throw this.refused(url, ans, err, version, `load adapter ${name} from ${path}`);
  }

  /** "absent": no adapter of that name was loaded. */
  async unloadAdapter(name: string, version?: number): Promise<"unloaded" | "absent"> {
    const url = endpoint(this.baseUrl, "/v1/unload_lora_adapter");
    const ans = await postJson(
      url,
      { lora_name: name },
      { backend: "vllm", policy: this.policy, context: { version, lora_name: name } },
    );
    if (ans.status >= 200 && ans.status < 300) return "unloaded";
    const err = vllmError(ans);
    if (ans.status === 404 && !err.routeMissing) return "absent";
    throw this.refused(url, ans, err, version, `unload adapter ${name}`);
  }

  /** Names of the LoRA adapters the server lists (GET /v1/models entries with a parent). */
  async listAdapters(): Promise<string[]> {
    const url = endpoint(this.baseUrl, "/v1/models");
    const ans = await getJson(url, { backend: "vllm", policy: this.policy });
    const data = isObject(ans.json) && Array.isArray(ans.json.data) ? (ans.json.data as unknown[]) : undefined;
    if (ans.status !== 200 || !data) {
      throw new PublishError(`vllm: GET ${url} answered HTTP ${ans.status}: ${truncate(ans.text)}`, {
        backend: "vllm",
        url,
        status: ans.status,
      });
    }
    return data
      .filter((m): m is { id: string; parent: string } => isObject(m) && typeof m.id === "string" && !!m.parent)
      .map((m) => m.id);
  }

  private refused(
    url: string,
    ans: HttpAnswer,
    err: VllmError,
    version: number | undefined,
    what: string,
  ): PublishError {
    const hint = err.routeMissing
      ? " (the server has no runtime LoRA API: start vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)"
      : "";
    return new PublishError(
      `vllm refused to ${what}: HTTP ${ans.status}${err.type ? ` ${err.type}` : ""}: ${err.message}${hint}`,
      { backend: "vllm", url, status: ans.status, version, attempts: ans.attempts, errorType: err.type },
    );
  }
}

interface VllmError {
  message: string;
  type: string;
  /** FastAPI's 404 for a route that is not mounted. */
  routeMissing: boolean;
}

/** Reads both vLLM error shapes (nested `error` object and the older flat one). */
export function vllmError(ans: HttpAnswer): VllmError {
  const j = ans.json;
  if (isObject(j)) {
    const e = isObject(j.error) ? j.error : j;
    if (typeof e.message === "string") {
      return { message: e.message, type: typeof e.type === "string" ? e.type : "", routeMissing: false };
    }
    if (typeof j.detail === "string") {
      return { message: j.detail, type: "", routeMissing: ans.status === 404 && j.detail === "Not Found" };
    }
  }
  return { message: truncate(ans.text) || "(empty body)", type: "", routeMissing: false };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
