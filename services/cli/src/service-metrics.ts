import { errorMessage, SluiceError, type SluiceErrorOptions } from "@sluice/common";

/** A metrics endpoint could not be read (HTTP error, deadline, unreadable body). */
export class MetricsScrapeError extends SluiceError {
  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, { retryable: true, ...options });
    this.name = "MetricsScrapeError";
  }
}

/**
 * Samples of a Prometheus text exposition whose metric name starts with one of `prefixes`,
 * keyed by the series as written (`name{label="v"}`). Histogram buckets are left out
 * (`_sum` and `_count` stay); comments, NaN and malformed lines are skipped.
 */
export function parsePrometheusText(text: string, prefixes: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = m[1] ?? "";
    if (!prefixes.some((p) => name.startsWith(p)) || name.endsWith("_bucket")) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    out[name + (m[2] ?? "")] = value;
  }
  return out;
}

/** GETs `url` (a /metrics endpoint) within `timeoutMs` and parses it with parsePrometheusText. */
export async function scrapeMetrics(
  url: string,
  prefixes: readonly string[],
  timeoutMs: number,
): Promise<Record<string, number>> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (cause) {
    throw new MetricsScrapeError(`scraping ${url}: ${errorMessage(cause)}`, { cause, context: { url, timeoutMs } });
  }
  return parsePrometheusText(text, prefixes);
}
