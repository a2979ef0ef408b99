import assert from "node:assert/strict";
import { test } from "node:test";
import { REPO_ROOT, loadExperimentManifest } from "@sluice/common";
import { allocatePorts, buildRuntimeConfig, OWN_GATEWAY_URL } from "./ports.js";

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

void test("points judges whose baseUrl is sluice://gateway at the run's own gateway, leaves others alone", async () => {
  const manifest = loadExperimentManifest(`${REPO_ROOT}/examples/toy-oni-gra.yaml`);
  assert.equal(manifest.spec.reward.oni.judge.baseUrl, OWN_GATEWAY_URL);
  const ports = await allocatePorts();
  const runtime = buildRuntimeConfig(manifest, "/tmp/run", ports);
  assert.equal(runtime.spec.reward.oni.judge.baseUrl, `http://127.0.0.1:${ports.services.gateway.httpPort}`);
  assert.equal(runtime.spec.reward.prm.judge.baseUrl, manifest.spec.reward.prm.judge.baseUrl);
  // The manifest itself (spec.json) keeps the placeholder.
  assert.equal(manifest.spec.reward.oni.judge.baseUrl, OWN_GATEWAY_URL);
  const plain = loadExperimentManifest(`${REPO_ROOT}/examples/toy.yaml`);
  assert.equal(buildRuntimeConfig(plain, "/tmp/run", ports).spec, plain.spec);
});
