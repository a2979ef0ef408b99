import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPES } from "../kube/resources.js";
import { FakeKubeApi } from "../testing/fake-kube-api.js";
import { testLogger } from "../testing/fakes.js";
import { FakeClock } from "./clock.js";
import { Informer, type InformerEventType } from "./informer.js";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

function cm(name: string, value: string) {
  return { ...TYPES.configMap, metadata: { name, namespace: "ns" }, data: { v: value } };
}

void describe("Informer", () => {
  void it("lists, then delivers watch events and keeps a cache", async () => {
    const api = new FakeKubeApi();
    const clock = new FakeClock();
    await api.create(cm("a", "1"));
    const seen: string[] = [];
    const inf = new Informer(api, TYPES.configMap, {
      clock,
      logger: testLogger(),
      stallMs: 60_000,
      onEvent: (t: InformerEventType, o) => seen.push(`${t} ${o.metadata.name}`),
    });
    inf.start();
    await settle();
    assert.equal(inf.hasSynced(), true);
    await api.create(cm("b", "1"));
    await api.apply(cm("a", "2"));
    await api.delete({ ...TYPES.configMap, namespace: "ns", name: "b" });
    assert.deepEqual(seen, ["add a", "add b", "update a", "delete b"]);
    assert.deepEqual((inf.get("ns", "a")?.data as { v: string }).v, "2");
    inf.stop();
  });

  void it("re-lists after a silent stall and delivers what the dead watch missed", async () => {
    const api = new FakeKubeApi();
    const clock = new FakeClock();
    const seen: string[] = [];
    const relists: string[] = [];
    const inf = new Informer(api, TYPES.configMap, {
      clock,
      logger: testLogger(),
      stallMs: 30_000,
      onEvent: (t, o) => seen.push(`${t} ${o.metadata.name}`),
      onRelist: (r) => relists.push(r),
    });
    inf.start();
    await settle();
    api.stallWatches(); // the connection is half-open: no error, no events
    await api.create(cm("missed", "1"));
    assert.deepEqual(seen, []);
    clock.advance(30_000);
    await settle();
    assert.deepEqual(seen, ["add missed"]);
    assert.deepEqual(relists, ["start", "stall"]);
    assert.equal(api.openWatches(), 1, "the stalled watch was closed and a new one opened");
    inf.stop();
  });

  void it("resumes a watch the server closed without re-listing, and retries a failed list with backoff", async () => {
    const api = new FakeKubeApi();
    const clock = new FakeClock();
    const relists: string[] = [];
    const seen: string[] = [];
    api.failNext("list", "ConfigMap", 500);
    const inf = new Informer(api, TYPES.configMap, {
      clock,
      logger: testLogger(),
      stallMs: 60_000,
      retryMs: 1_000,
      onEvent: (t, o) => seen.push(`${t} ${o.metadata.name}`),
      onRelist: (r) => relists.push(r),
    });
    inf.start();
    await settle();
    assert.equal(inf.hasSynced(), false);
    clock.advance(1_000);
    await settle();
    assert.equal(inf.hasSynced(), true);
    api.closeWatches();
    await settle();
    await api.create(cm("after", "1"));
    assert.deepEqual(seen, ["add after"]);
    assert.deepEqual(relists, ["start", "error"]);
    inf.stop();
  });
});
