import { errorMessage, sleep } from "@sluice/common";
import { PublishError, type InferenceBackend } from "./errors.js";

/** Deadline and retry policy of the weight-update HTTP calls. */
export interface HttpPolicy {
  /** Deadline of one attempt. */
  timeoutMs: number;
  /** Retries after the first attempt, on a 5xx, a timeout or a connection error. */
  retries: number;
  /** Wait before the first retry; doubled after each. */
  backoffMs: number;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
}

/** What the server answered (any status: the API decides what a 4xx means). */
export interface HttpAnswer {
  status: number;
  /** The body as text (vLLM answers success as plain text, errors as JSON). */
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
  attempts: number;
}

export interface PostOptions {
  backend: InferenceBackend;
  policy: HttpPolicy;
  /** Aborts waiting (backoff and the in-flight attempt); the error then says so. */
  signal?: AbortSignal;
  /** Extra error context (e.g. the version being published). */
  context?: Record<string, unknown>;
}

/**
 * POSTs JSON with a deadline per attempt and retries with exponential backoff on a 5xx, a
 * timeout or a connection error. Any other answer (2xx, 4xx) is returned for the caller to
 * interpret. Running out of retries throws a retryable PublishError naming the URL, the
 * attempts and the last failure.
 */
export async function postJson(url: string, body: unknown, o: PostOptions): Promise<HttpAnswer> {
  return request("POST", url, body, o);
}

async function request(method: "GET" | "POST", url: string, body: unknown, o: PostOptions): Promise<HttpAnswer> {
  const { policy } = o;
  const attemptsAllowed = policy.retries + 1;
  let last = "";
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
    if (o.signal?.aborted) break;
    const deadline = AbortSignal.timeout(policy.timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
    try {
      const res = await fetch(url, {
        method,
        headers: {
          ...(method === "POST" ? { "content-type": "application/json" } : {}),
          ...(policy.apiKey ? { authorization: `Bearer ${policy.apiKey}` } : {}),
        },
        body: method === "POST" ? JSON.stringify(body) : undefined,
        signal,
      });
      const text = await res.text();
      if (res.status < 500) return { status: res.status, text, json: parseJson(text), attempts: attempt };
      lastStatus = res.status;
      last = `HTTP ${res.status}: ${truncate(text)}`;
    } catch (err) {
      lastStatus = undefined;
      last = deadline.aborted
        ? `no answer within ${policy.timeoutMs} ms`
        : o.signal?.aborted
          ? "aborted"
          : connectionMessage(err);
    }
    if (attempt < attemptsAllowed && !o.signal?.aborted) {
      await sleep(policy.backoffMs * 2 ** (attempt - 1), o.signal);
    }
  }
  const attempts = o.signal?.aborted ? undefined : attemptsAllowed;
  throw new PublishError(
    `${o.backend}: ${method} ${url} failed${attempts ? ` after ${attempts} attempt(s)` : ""}: ${o.signal?.aborted ? "aborted" : last}`,
    { backend: o.backend, url, status: lastStatus, attempts, ...o.context },
    { retryable: true },
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function connectionMessage(err: unknown): string {
  // fetch wraps the socket error (ECONNREFUSED, ECONNRESET, …) in `cause`.
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `connection failed (${cause.code}${cause.message ? `: ${cause.message}` : ""})`;
  return `connection failed (${errorMessage(err)})`;
}

export function truncate(text: string, max = 500): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** `base` without trailing slashes + `path`. */
export function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}

/** GET with the same deadline and retry policy as postJson. */
export async function getJson(url: string, o: PostOptions): Promise<HttpAnswer> {
  return request("GET", url, undefined, o);
}
