import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, createMetricsRegistry, DeadlineError, startGrpcServer } from "@sluice/common";
import { freePort } from "@sluice/common/internal";
import { decodeHealthResponse, encodeHealthRequest, HealthProbe, waitForServing } from "./health.js";

void test("encodes health requests and decodes responses", () => {
  assert.equal(encodeHealthRequest("").length, 0);
  assert.deepEqual([...encodeHealthRequest("ab")], [0x0a, 2, 0x61, 0x62]);
  assert.equal(decodeHealthResponse(Buffer.from([0x08, 0x01])), "SERVING");
  assert.equal(decodeHealthResponse(Buffer.from([0x08, 0x02])), "NOT_SERVING");
  assert.equal(decodeHealthResponse(Buffer.alloc(0)), "UNKNOWN");
});

void test("waits for a real gRPC health service to report SERVING", async () => {
  const port = await freePort();
  const server = await startGrpcServer({
    port,
    services: [],
    logger: createLogger({ experiment: "t", component: "t", write: () => undefined }),
    registry: createMetricsRegistry("t", "t"),
  });
  try {
    await waitForServing(`127.0.0.1:${port}`, "test server", { timeoutMs: 5_000 });
    server.health.setStatus("", "NOT_SERVING");
    const probe = new HealthProbe(`127.0.0.1:${port}`);
    assert.equal(await probe.check(2_000), "NOT_SERVING");
    probe.close();
  } finally {
    await server.shutdown(100);
  }
});

void test("an unreachable address is UNREACHABLE and the wait has a deadline", async () => {
  const port = await freePort();
  const probe = new HealthProbe(`127.0.0.1:${port}`);
  assert.equal(await probe.check(500), "UNREACHABLE");
  probe.close();
  await assert.rejects(waitForServing(`127.0.0.1:${port}`, "nothing", { timeoutMs: 400 }), DeadlineError);
});
