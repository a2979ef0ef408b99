import { errorMessage } from "@sluice/common";
import { createAnswerParser, type AnswerParser } from "./answer-parser.js";
import type { AnnotatorMetrics } from "./annotator-metrics.js";
import { AnnotationBacklog, type EnqueueResult } from "./backlog.js";
import type { AnnotatorConfig, JudgeConfig, ParserConfig } from "./config.js";
import { JudgeClient } from "./judge-client.js";
import type { LabelSink } from "./label-store.js";

export interface AnnotatorOptions {
  annotator: AnnotatorConfig;
  judge: JudgeConfig;
  parser: ParserConfig;
  sink: LabelSink;
  metrics: AnnotatorMetrics;
  /** Called after each stored batch with `{key → label}` and the store version. */
  onLabels?: (labels: ReadonlyMap<string, number>, version: number) => void;
  /** Called when storing a batch fails (the batch goes back to the backlog). */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** What one batch did. */
export interface BatchResult {
  labelled: number;
  failed: number;
  parseFailures: number;
}

/**
 * ONI's asynchronous annotator (Zheng et al., arXiv 2410.23022). `enqueue` never
 * blocks or waits; `run` takes batches from the backlog, asks the judge, parses the
 * answers and stores `{key → label}`. Items whose request failed after retries, or
 * whose batch could not be stored, go back to the backlog.
 */
export class Annotator {
  readonly backlog: AnnotationBacklog;
  private readonly judge: JudgeClient;
  private readonly parse: AnswerParser;
  private readonly now: () => number;
  private wake: (() => void) | undefined;
  private lastDropped = 0;

  constructor(private readonly options: AnnotatorOptions) {
    this.now = options.now ?? Date.now;
    this.parse = createAnswerParser(options.parser);
    this.backlog = new AnnotationBacklog({
      cap: options.annotator.backlogCap,
      order: options.annotator.order,
      isLabelled: (key) => options.sink.has(key),
      now: this.now,
    });
    this.judge = new JudgeClient(options.judge, (ok) =>
      options.metrics.requests.inc({ outcome: ok ? "ok" : "failed" }),
    );
  }

  enqueue(key: string, text: string): EnqueueResult {
    const result = this.backlog.enqueue(key, text);
    this.updateGauges();
    if (result === "queued") this.wake?.();
    return result;
  }

  /** Annotates one batch (up to batchSize items); resolves with what it did. */
  async runOnce(signal?: AbortSignal): Promise<BatchResult> {
    const batch = this.backlog.take(this.options.annotator.batchSize);
    this.updateGauges();
    if (batch.length === 0) return { labelled: 0, failed: 0, parseFailures: 0 };
    const answers = await this.judge.annotate(
      batch.map((b) => b.text),
      signal,
    );
    const labels = new Map<string, number>();
    const failedKeys: string[] = [];
    let parseFailures = 0;
    batch.forEach((item, i) => {
      const answer = answers[i];
      if (answer === undefined) return void failedKeys.push(item.key);
      const parsed = this.parse(answer);
      if (!parsed.parsed) parseFailures++;
      labels.set(item.key, parsed.label);
    });
    this.options.metrics.parseFailures.inc(parseFailures);
    if (labels.size > 0) {
      try {
        const version = await this.options.sink.putMany(labels);
        this.backlog.complete(labels.keys());
        this.options.metrics.labelsStored.inc(labels.size);
        const t = this.now();
        for (const item of batch) {
          if (labels.has(item.key)) this.options.metrics.labelLatency.observe((t - item.enqueuedAtMs) / 1000);
        }
        this.options.onLabels?.(labels, version);
      } catch (err) {
        this.options.onError?.(err);
        failedKeys.push(...labels.keys());
        labels.clear();
      }
    }
    if (failedKeys.length > 0) {
      this.backlog.requeue(failedKeys);
      this.options.metrics.requeued.inc(failedKeys.length);
    }
    this.updateGauges();
    return { labelled: labels.size, failed: failedKeys.length, parseFailures };
  }

  /** Annotates until `signal` aborts; an idle loop sleeps at most `idleWaitMs` between checks. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.backlog.depth === 0) {
        await this.idle(signal);
        continue;
      }
      try {
        const r = await this.runOnce(signal);
        // A batch that failed entirely backs off one idle period before the next try.
        if (r.labelled === 0 && r.failed > 0) await this.idle(signal);
      } catch (err) {
        this.options.onError?.(new Error(`ONI annotator batch failed: ${errorMessage(err)}`, { cause: err }));
        await this.idle(signal);
      }
    }
  }

  private idle(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.annotator.idleWaitMs);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }

  private updateGauges(): void {
    this.options.metrics.queueDepth.set(this.backlog.depth);
    this.options.metrics.inFlight.set(this.backlog.inFlightCount);
    const dropped = this.backlog.dropped;
    if (dropped > this.lastDropped) this.options.metrics.dropped.inc(dropped - this.lastDropped);
    this.lastDropped = dropped;
  }
}
