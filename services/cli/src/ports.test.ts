import assert from "node:assert/strict";
import { test } from "node:test";
import { allocatePorts } from "./ports.js";

void test("allocates distinct ports for nats and every service, http only for the gateway", async () => {
  const p = await allocatePorts();
  const all = [
    p.nats,
    ...Object.values(p.services).flatMap((e) => [e.grpcPort, e.metricsPort, e.httpPort ?? []].flat()),
  ];
  assert.equal(new Set(all).size, all.length);
  assert.equal(all.length, 1 + 6 * 2 + 1);
  assert.ok(p.services.gateway.httpPort);
  assert.equal(p.services.learner.httpPort, undefined);
  assert.equal(p.services.engine.host, "127.0.0.1");
});

void test("retries when the picker hands out a port twice", async () => {
  const seq = [5000, 5000, 5001, 5001, 5002, ...Array.from({ length: 20 }, (_, i) => 6000 + i)];
  let i = 0;
  const p = await allocatePorts(async () => seq[i++] ?? 9999);
  assert.equal(p.nats, 5000);
  assert.equal(p.services.engine.grpcPort, 5001);
  assert.equal(p.services.engine.metricsPort, 5002);
});
