import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RpcError, createLogger } from "@sluice/common";
import { retryWhileUnavailable } from "./engine-retry.js";

const logger = createLogger({ experiment: "t", component: "gateway", write: () => undefined });

/** An engine whose `sample` fails with `codes` in turn, then answers. */
function flaky(codes: number[]) {
  let calls = 0;
  return {
    calls: () => calls,
    close: (): string => "closed",
    sample: async (x: number): Promise<number> => {
      const code = codes[calls++];
      if (code !== undefined) throw new RpcError("Engine.Sample", code, "down");
      return Promise.resolve(x * 2);
    },
  };
}

void describe("retryWhileUnavailable", () => {
  void it("retries UNAVAILABLE until the engine answers", async () => {
    const engine = flaky([14, 14]);
    const wrapped = retryWhileUnavailable(engine, { retryMs: 5_000, logger });
    assert.equal(await wrapped.sample(21), 42);
    assert.equal(engine.calls(), 3);
  });

  void it("passes other errors through at once", async () => {
    const engine = flaky([3]);
    const wrapped = retryWhileUnavailable(engine, { retryMs: 5_000, logger });
    await assert.rejects(wrapped.sample(1), (e: unknown) => e instanceof RpcError && e.code === 3);
    assert.equal(engine.calls(), 1);
  });

  void it("gives the UNAVAILABLE error back once the retry time is spent", async () => {
    const engine = flaky(new Array<number>(100).fill(14));
    const wrapped = retryWhileUnavailable(engine, { retryMs: 500, logger });
    const t0 = Date.now();
    await assert.rejects(wrapped.sample(1), (e: unknown) => e instanceof RpcError && e.code === 14);
    assert.ok(Date.now() - t0 < 1_500);
    assert.equal(engine.calls(), 2, "200 ms, then a 400 ms wait would pass the deadline");
  });

  void it("leaves synchronous members synchronous", () => {
    assert.equal(retryWhileUnavailable(flaky([]), { retryMs: 1, logger }).close(), "closed");
  });
});
