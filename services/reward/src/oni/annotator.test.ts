import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createMetricsRegistry } from "@sluice/common";
import { AnnotatorMetrics } from "./annotator-metrics.js";
import { Annotator } from "./annotator.js";
import { oniSchema, type OniConfig } from "./config.js";
import type { LabelSink } from "./label-store.js";
import { startLocalJudge, type LocalJudge } from "./testing/local-judge.js";

class MemorySink implements LabelSink {
  readonly labels = new Map<string, number>();
  failNext = 0;
  has(key: string): boolean {
    return this.labels.has(key);
  }
  async putMany(labels: ReadonlyMap<string, number>): Promise<number> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("sink down");
    }
    for (const [k, v] of labels) this.labels.set(k, v);
    return this.labels.size;
  }
}

async function metricValue(registry: ReturnType<typeof createMetricsRegistry>, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).reduce((s, v) => s + v.value, 0);
}

void describe("ONI annotator with a local judge", { timeout: 20_000 }, () => {
  let judge: LocalJudge;
  before(async () => {
    judge = await startLocalJudge({ keyOf: (p) => /item-(\w+)/.exec(p)?.[0] ?? p });
  });
  after(async () => judge?.close());

  function make(overrides: Partial<OniConfig["annotator"]> = {}, api: "chat" | "completions" = "chat") {
    const cfg = oniSchema.parse({
      judge: { baseUrl: judge.baseUrl, api, retries: 1, backoffMs: 10, requestDeadlineMs: 2_000 },
      annotator: { batchSize: 2, ...overrides },
    });
    const registry = createMetricsRegistry("reward", "unit");
    const sink = new MemorySink();
    const annotator = new Annotator({ ...cfg, sink, metrics: new AnnotatorMetrics(registry) });
    return { annotator, sink, registry };
  }

  test("labels a batch through chat completions, newest first", async () => {
    const { annotator, sink, registry } = make();
    annotator.enqueue("k1", "item-1 PASS");
    annotator.enqueue("k2", "item-2 fail");
    annotator.enqueue("k3", "item-3 PASS");
    const r = await annotator.runOnce();
    assert.deepEqual(r, { labelled: 2, failed: 0, parseFailures: 0 });
    assert.deepEqual([...sink.labels].sort(), [
      ["k2", 0],
      ["k3", 1],
    ]);
    assert.equal(await metricValue(registry, "sluice_oni_annotation_queue_depth"), 1);
    assert.equal(await metricValue(registry, "sluice_oni_labels_stored_total"), 2);
  });

  test("labels a batch through /v1/completions with one request", async () => {
    const { annotator, sink } = make({ batchSize: 4 }, "completions");
    const before = judge.requests;
    annotator.enqueue("c1", "item-c1 PASS");
    annotator.enqueue("c2", "item-c2 no");
    await annotator.runOnce();
    assert.equal(judge.requests - before, 1);
    assert.deepEqual([...sink.labels].sort(), [
      ["c1", 1],
      ["c2", 0],
    ]);
  });

  test("an unparseable answer maps to the default label and is counted", async () => {
    const odd = await startLocalJudge({ answer: () => "no idea" });
    try {
      const cfg = oniSchema.parse({ judge: { baseUrl: odd.baseUrl }, parser: { defaultLabel: 0 } });
      const registry = createMetricsRegistry("reward", "unit");
      const sink = new MemorySink();
      const annotator = new Annotator({ ...cfg, sink, metrics: new AnnotatorMetrics(registry) });
      annotator.enqueue("u", "anything");
      assert.deepEqual(await annotator.runOnce(), { labelled: 1, failed: 0, parseFailures: 1 });
      assert.equal(sink.labels.get("u"), 0);
      assert.equal(await metricValue(registry, "sluice_oni_parse_failures_total"), 1);
    } finally {
      await odd.close();
    }
  });

  test("a batch that fails after retries returns to the backlog and is labelled later", async () => {
    const { annotator, sink, registry } = make();
    judge.setFailFirst(2); // retries: 1 → both tries of the single request fail
    annotator.enqueue("r1", "item-r1 PASS");
    assert.deepEqual(await annotator.runOnce(), { labelled: 0, failed: 1, parseFailures: 0 });
    assert.equal(annotator.backlog.depth, 1);
    assert.equal(annotator.enqueue("r1", "item-r1 PASS"), "pending");
    assert.equal(await metricValue(registry, "sluice_oni_backlog_requeued_total"), 1);
    assert.equal(await metricValue(registry, "sluice_oni_judge_requests_total"), 2);
    assert.deepEqual(await annotator.runOnce(), { labelled: 1, failed: 0, parseFailures: 0 });
    assert.equal(sink.labels.get("r1"), 1);
  });

  test("a batch the store refuses returns to the backlog", async () => {
    const { annotator, sink } = make();
    sink.failNext = 1;
    annotator.enqueue("s1", "item-s1 PASS");
    assert.equal((await annotator.runOnce()).failed, 1);
    assert.equal(annotator.backlog.depth, 1);
    await annotator.runOnce();
    assert.equal(sink.labels.get("s1"), 1);
  });

  test("a labelled key is never sent again", async () => {
    const { annotator } = make();
    annotator.enqueue("d1", "item-d1 PASS");
    await annotator.runOnce();
    assert.equal(annotator.enqueue("d1", "item-d1 PASS"), "labelled");
    assert.equal(judge.countFor("item-d1"), 1);
  });

  test("enqueue returns at once while the judge is slow", async () => {
    const slow = await startLocalJudge({ delayMs: 500 });
    const abort = new AbortController();
    try {
      const cfg = oniSchema.parse({ judge: { baseUrl: slow.baseUrl }, annotator: { batchSize: 1, idleWaitMs: 20 } });
      const sink = new MemorySink();
      const annotator = new Annotator({ ...cfg, sink, metrics: new AnnotatorMetrics(createMetricsRegistry("r", "u")) });
      const running = annotator.run(abort.signal);
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) annotator.enqueue(`k${i}`, `text ${i}`);
      assert.ok(performance.now() - t0 < 100, "enqueue blocked");
      abort.abort();
      await running;
    } finally {
      await slow.close();
    }
  });
});
