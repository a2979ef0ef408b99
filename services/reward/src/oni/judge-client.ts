import { errorMessage, sleep } from "@sluice/common";
import type { JudgeConfig } from "./config.js";
import { JudgeRequestError } from "./errors.js";

/** Called once per HTTP request with whether it succeeded. */
export type RequestObserver = (ok: boolean) => void;

/**
 * Calls an OpenAI-compatible endpoint. Chat mode sends one request per text
 * (concurrently); completions mode sends the whole batch as one request with a
 * prompt array. Each request has a deadline and is retried with exponential backoff.
 */
export class JudgeClient {
  constructor(
    private readonly config: JudgeConfig,
    private readonly onRequest: RequestObserver = () => undefined,
  ) {}

  /** Answers per text, in order; `undefined` where every try failed (the caller re-enqueues). */
  async annotate(texts: readonly string[], signal?: AbortSignal): Promise<(string | undefined)[]> {
    if (texts.length === 0) return [];
    const prompts = texts.map((t) => this.config.prompt.replaceAll("{text}", t));
    if (this.config.api === "completions") {
      const answers = await this.withRetries(() => this.completions(prompts, signal), signal).catch(() => undefined);
      return answers ?? texts.map(() => undefined);
    }
    return Promise.all(prompts.map((p) => this.withRetries(() => this.chat(p, signal), signal).catch(() => undefined)));
  }

  private async withRetries<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.config.retries; attempt++) {
      if (attempt > 0) {
        const delay = Math.min(this.config.backoffMs * 2 ** (attempt - 1), this.config.maxBackoffMs);
        await sleep(delay, signal);
      }
      if (signal?.aborted) break;
      try {
        const result = await call();
        this.onRequest(true);
        return result;
      } catch (err) {
        this.onRequest(false);
        lastError = err;
      }
    }
    throw new JudgeRequestError(`judge: ${this.config.retries + 1} tries failed: ${errorMessage(lastError)}`, {
      cause: lastError,
      context: { baseUrl: this.config.baseUrl, api: this.config.api },
    });
  }

  private async chat(prompt: string, signal?: AbortSignal): Promise<string> {
    const messages = [
      ...(this.config.systemPrompt ? [{ role: "system", content: this.config.systemPrompt }] : []),
      { role: "user", content: prompt },
    ];
    const body = await this.post("/v1/chat/completions", { messages }, signal);
    const content = readChoices(body)[0]?.message?.content;
    if (typeof content !== "string")
      throw new JudgeRequestError("judge: chat response without choices[0].message.content");
    return content;
  }

  private async completions(prompts: string[], signal?: AbortSignal): Promise<string[]> {
    const body = await this.post("/v1/completions", { prompt: prompts }, signal);
    const out: (string | undefined)[] = prompts.map(() => undefined);
    readChoices(body).forEach((c, i) => {
      const idx = typeof c.index === "number" ? c.index : i;
      if (idx >= 0 && idx < out.length && typeof c.text === "string") out[idx] = c.text;
    });
    if (out.some((t) => t === undefined)) {
      throw new JudgeRequestError(`judge: completions response lacks answers for some of ${prompts.length} prompts`);
    }
    return out as string[];
  }

  private async post(path: string, extra: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const url = this.config.baseUrl.replace(/\/+$/, "") + path;
    const deadline = AbortSignal.timeout(this.config.requestDeadlineMs);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: this.config.model,
        temperature: this.config.temperature,
        max_tokens: this.config.maxTokens,
        ...extra,
      }),
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    }).catch((cause: unknown) => {
      throw new JudgeRequestError(`judge: POST ${url} failed: ${errorMessage(cause)}`, {
        cause,
        context: { url, deadlineMs: this.config.requestDeadlineMs },
      });
    });
    const text = await res.text();
    if (!res.ok) {
      throw new JudgeRequestError(`judge: POST ${url} returned ${res.status}: ${text.slice(0, 200)}`, {
        context: { url, status: res.status },
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new JudgeRequestError(`judge: POST ${url} returned non-JSON: ${text.slice(0, 200)}`, { cause });
    }
  }
}

interface Choice {
  index?: unknown;
  text?: unknown;
  message?: { content?: unknown };
}

function readChoices(body: unknown): Choice[] {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) throw new JudgeRequestError("judge: response has no choices array");
  return choices as Choice[];
}
