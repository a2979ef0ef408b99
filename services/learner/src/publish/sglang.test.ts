import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { experimentSpecSchema } from "@sluice/common";
import { PublishError } from "./errors.js";
import type { HttpPolicy } from "./http.js";
import { createWeightPublisher, SglangPublisher } from "./publisher.js";
import { SglangClient } from "./sglang.js";
import { FakeWeightWriter } from "./testing/fake-writer.js";
import { SglangTestServer } from "./testing/sglang-server.js";

const FAST: HttpPolicy = { timeoutMs: 2_000, retries: 2, backoffMs: 10 };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("SGLang full-weight publishing", () => {
  let server: SglangTestServer;
  let weightsDir: string;
  const publisher = (o: { writer?: FakeWeightWriter; policy?: HttpPolicy; url?: string; loadFormat?: string } = {}) =>
    new SglangPublisher({
      model: "policy",
      writer: o.writer ?? new FakeWeightWriter(),
      weightsDir,
      onWarning: () => {},
      client: new SglangClient(o.url ?? server.url, o.policy ?? FAST),
      servedModel: "policy",
      loadFormat: o.loadFormat,
    });

  beforeEach(async () => {
    weightsDir = mkdtempSync(join(tmpdir(), "sluice-sglang-"));
    dirs.push(weightsDir);
    server = await SglangTestServer.start();
  });
  afterEach(() => server.stop());

  it("saves merged weights and loads them with update_weights_from_disk", async () => {
    const writer = new FakeWeightWriter();
    const out = await publisher({ writer }).publish(4);
    const dir = join(weightsDir, "v4");
    assert.deepEqual(writer.calls, [{ model: "policy", path: dir, format: 2 }]);
    assert.deepEqual(
      server.http.requests.map((r) => [r.method, r.path, r.body]),
      [["POST", "/update_weights_from_disk", { model_path: dir, weight_version: "4" }]],
    );
    assert.equal(server.modelPath, dir);
    assert.equal(server.weightVersion, "4");
    // SGLang keeps serving under its --served-model-name.
    assert.deepEqual(out, { servedModel: "policy", weightsUri: `file://${dir}` });
  });

  it("passes load_format on and deletes directories of versions it no longer serves", async () => {
    const p = publisher({ loadFormat: "safetensors" });
    await p.publish(1);
    await p.publish(2);
    assert.deepEqual(
      server.loads.map((l) => [l.modelPath, l.loadFormat, l.weightVersion]),
      [
        [join(weightsDir, "v1"), "safetensors", "1"],
        [join(weightsDir, "v2"), "safetensors", "2"],
      ],
    );
    assert.ok(!existsSync(join(weightsDir, "v1")));
    assert.ok(existsSync(join(weightsDir, "v2", "model.safetensors")));
  });

  it("success=false is a PublishError with SGLang's message and is not retried", async () => {
    const client = new SglangClient(server.url, FAST);
    await assert.rejects(client.updateWeightsFromDisk({ model_path: join(weightsDir, "nope") }, 3), (err: unknown) => {
      assert.ok(err instanceof PublishError);
      assert.equal(err.retryable, false);
      assert.equal(err.context.status, 400);
      assert.equal(err.context.version, 3);
      assert.match(err.message, /keeps its previous weights\): Failed to get weights iterator: .*does not exist/);
      return true;
    });
    assert.equal(server.http.requests.length, 1);
    assert.equal(server.modelPath, "/models/base");
  });

  it("an unexpected answer (422 without model_path) names the status and body", async () => {
    const client = new SglangClient(server.url, FAST);
    await assert.rejects(
      client.updateWeightsFromDisk({} as { model_path: string }),
      /unexpected answer to update_weights_from_disk: HTTP 422: .*Field required/,
    );
  });

  it("refuses a LoRA checkpoint when the engine client dropped the MERGED format", async () => {
    await assert.rejects(
      publisher({ writer: new FakeWeightWriter("drops-format") }).publish(1),
      /wrote a LoRA checkpoint instead of merged weights/,
    );
    assert.equal(server.http.requests.length, 0);
  });

  it("a model without LoRA works even when the format is dropped (its checkpoint is an HF checkpoint)", async () => {
    await publisher({ writer: new FakeWeightWriter("no-lora") }).publish(1);
    assert.equal(server.modelPath, join(weightsDir, "v1"));
  });

  it("retries a 502 and a dropped connection, then succeeds", async () => {
    server.http.inject({ kind: "status", status: 502 });
    server.http.inject({ kind: "reset" });
    await publisher().publish(1);
    assert.equal(server.http.requests.length, 3);
    assert.equal(server.weightVersion, "1");
  });

  it("a hanging server fails each attempt at its deadline", async () => {
    server.http.inject({ kind: "hang" }, 3);
    await assert.rejects(
      publisher({ policy: { timeoutMs: 150, retries: 2, backoffMs: 10 } }).publish(1),
      /sglang: POST .*\/update_weights_from_disk failed after 3 attempt\(s\): no answer within 150 ms/,
    );
  });

  it("a server that is down is a clear error", async () => {
    const url = server.url;
    await server.stop();
    await assert.rejects(
      publisher({ url, policy: { timeoutMs: 1_000, retries: 0, backoffMs: 10 } }).publish(1),
      /sglang: POST .* failed after 1 attempt\(s\): connection failed \(ECONNREFUSED/,
    );
    server = await SglangTestServer.start();
  });

  it("the spec's defaults: served model is model.name, weights under <runDir>/weights", async () => {
    const spec = experimentSpecSchema.parse({
      steps: 1,
      environment: { name: "digits" },
      inference: { backend: "sglang", url: `${server.url}/` },
    });
    const p = createWeightPublisher({ spec, runDir: weightsDir, writer: new FakeWeightWriter() });
    const out = await p.publish(7);
    assert.equal(out.servedModel, "policy");
    assert.equal(server.modelPath, join(weightsDir, "weights", "v7"));
  });
});

describe("inference spec block", () => {
  it("defaults to the engine and needs a URL for vllm / sglang", () => {
    const base = { steps: 1, environment: { name: "digits" } };
    assert.equal(experimentSpecSchema.parse(base).inference.backend, "engine");
    assert.throws(() => experimentSpecSchema.parse({ ...base, inference: { backend: "vllm" } }), /inference.url/);
    assert.throws(
      () => experimentSpecSchema.parse({ ...base, inference: { backend: "sglang", url: "localhost:30000" } }),
      /http/,
    );
  });

  it("an apiKeyEnv that is not set fails at construction", () => {
    const spec = experimentSpecSchema.parse({
      steps: 1,
      environment: { name: "digits" },
      inference: { backend: "sglang", url: "http://127.0.0.1:1", apiKeyEnv: "NO_SUCH_KEY_VAR" },
    });
    assert.throws(
      () => createWeightPublisher({ spec, runDir: "/tmp", writer: new FakeWeightWriter(), env: {} }),
      /NO_SUCH_KEY_VAR, which is not set/,
    );
  });
});
