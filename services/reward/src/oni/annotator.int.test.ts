import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectNats, createMetricsRegistry, waitFor, type NatsHandles } from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { annotationKey, stepAnnotationText } from "./annotation-key.js";
import { AnnotatorMetrics } from "./annotator-metrics.js";
import { Annotator } from "./annotator.js";
import { oniSchema } from "./config.js";
import { KvLabelStore, labelBucketName, retrievalReward } from "./label-store.js";
import { startLocalJudge, type LocalJudge } from "./testing/local-judge.js";

void describe("ONI annotation through the NATS label store", { timeout: 30_000 }, () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let judge: LocalJudge;
  const abort = new AbortController();

  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "oni-annot-it", 5_000);
    judge = await startLocalJudge({ delayMs: 150, keyOf: (p) => /step-\d+/.exec(p)?.[0] ?? p });
  });
  after(async () => {
    abort.abort();
    await judge?.close();
    await nats?.close();
    await server?.stop();
  });

  test("annotates steps once each and serves them as retrieval rewards", async () => {
    const cfg = oniSchema.parse({
      judge: { baseUrl: judge.baseUrl, requestDeadlineMs: 5_000 },
      annotator: { batchSize: 4, idleWaitMs: 20 },
    });
    const store = await KvLabelStore.open(nats.nc, labelBucketName("oni-annot"));
    const published: number[] = [];
    const annotator = new Annotator({
      ...cfg,
      sink: store,
      metrics: new AnnotatorMetrics(createMetricsRegistry("reward", "oni-annot")),
      onLabels: (_labels, version) => published.push(version),
    });
    const running = annotator.run(abort.signal);

    const steps = Array.from({ length: 10 }, (_, i) =>
      stepAnnotationText({ observationText: `step-${i} tests ${i % 2 ? "PASS" : "FAIL"}`, actionText: "run" }),
    );
    // Each step is offered three times while its request is still pending.
    for (let round = 0; round < 3; round++) {
      for (const text of steps) annotator.enqueue(annotationKey(text), text);
    }
    await waitFor(() => (store.size === 10 ? true : undefined), 10_000, "10 labels stored");
    for (const [i, text] of steps.entries()) {
      assert.equal(judge.countFor(`step-${i}`), 1, `step-${i} annotated more than once`);
      assert.equal(retrievalReward(store, annotationKey(text)), i % 2);
    }
    assert.ok(published.length >= 3 && published.every((v, i) => i === 0 || v > (published[i - 1] ?? 0)));

    // After labelling, the same step is never sent again; another reader sees the labels.
    assert.equal(annotator.enqueue(annotationKey(steps[0] ?? ""), steps[0] ?? ""), "labelled");
    const reader = await KvLabelStore.open(nats.nc, labelBucketName("oni-annot"));
    assert.equal(reader.size, 10);
    assert.equal(reader.version, store.version);
    abort.abort();
    await running;
  });
});
