import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { experimentSpecSchema } from "@sluice/common";
import { PublishError } from "./errors.js";
import type { HttpPolicy } from "./http.js";
import { createWeightPublisher, VllmPublisher } from "./publisher.js";
import { FakeWeightWriter } from "./testing/fake-writer.js";
import { VllmTestServer, type VllmTestServerOptions } from "./testing/vllm-server.js";
import { VllmLoraClient } from "./vllm.js";

const FAST: HttpPolicy = { timeoutMs: 2_000, retries: 2, backoffMs: 10 };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "sluice-vllm-"));
  dirs.push(d);
  return d;
}

async function chat(url: string, model: string): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    signal: AbortSignal.timeout(5_000),
  });
  await res.text();
  return res.status;
}

describe("vLLM LoRA publishing", () => {
  let server: VllmTestServer;
  let weightsDir: string;
  let warnings: string[];
  const start = async (o: VllmTestServerOptions = {}) => {
    await server?.stop();
    server = await VllmTestServer.start(o);
  };
  const publisher = (o: { keep?: number; writer?: FakeWeightWriter; policy?: HttpPolicy; url?: string } = {}) =>
    new VllmPublisher({
      model: "policy",
      writer: o.writer ?? new FakeWeightWriter(),
      weightsDir,
      onWarning: (m) => warnings.push(m),
      client: new VllmLoraClient(o.url ?? server.url, o.policy ?? FAST),
      namePrefix: "policy-v",
      keepVersions: o.keep ?? 2,
    });

  beforeEach(async () => {
    weightsDir = tmp();
    warnings = [];
    await start();
  });
  afterEach(() => server.stop());

  it("loads each version under a versioned name and chat requests for it use that name", async () => {
    const p = publisher();
    const out = await p.publish(3);
    assert.equal(out.servedModel, "policy-v3");
    const dir = join(weightsDir, "v3");
    assert.equal(out.weightsUri, `file://${dir}`);
    assert.equal(fileURLToPath(out.weightsUri), dir);
    assert.deepEqual(
      server.http.requests.filter((r) => r.path === "/v1/load_lora_adapter").map((r) => r.body),
      [{ lora_name: "policy-v3", lora_path: dir }],
    );
    assert.equal(server.adapters.get("policy-v3"), dir);
    assert.equal(await chat(server.url, out.servedModel), 200);
    assert.equal(await chat(server.url, "policy-v4"), 404, "an unpublished version is not served");
  });

  it("asks the engine for the PEFT adapter format", async () => {
    const writer = new FakeWeightWriter();
    await publisher({ writer }).publish(1);
    assert.deepEqual(writer.calls, [{ model: "policy", path: join(weightsDir, "v1"), format: 1 }]);
  });

  it("unloads and deletes versions older than the kept window (η + 1)", async () => {
    const p = publisher({ keep: 2 });
    for (const v of [0, 1, 2, 3]) await p.publish(v);
    assert.deepEqual([...server.adapters.keys()].sort(), ["policy-v2", "policy-v3"]);
    assert.deepEqual(p.loadedVersions(), [2, 3]);
    assert.deepEqual(
      server.http.requests.filter((r) => r.path === "/v1/unload_lora_adapter").map((r) => r.body),
      [{ lora_name: "policy-v0" }, { lora_name: "policy-v1" }],
    );
    assert.ok(!existsSync(join(weightsDir, "v0")) && !existsSync(join(weightsDir, "v1")));
    assert.ok(existsSync(join(weightsDir, "v2", "adapter_model.safetensors")));
    assert.equal(await chat(server.url, "policy-v1"), 404);
    assert.equal(await chat(server.url, "policy-v2"), 200);
  });

  it("η = 0 keeps only the newest adapter", async () => {
    const spec = experimentSpecSchema.parse({
      steps: 1,
      environment: { name: "digits" },
      rollout: { maxStaleness: 0 },
      inference: { backend: "vllm", url: server.url, retryBackoffMs: 10 },
    });
    const p = createWeightPublisher({ spec, runDir: weightsDir, writer: new FakeWeightWriter() });
    await p.publish(0);
    await p.publish(1);
    assert.deepEqual([...server.adapters.keys()], ["policy-v1"]);
    assert.equal(server.adapters.get("policy-v1"), join(weightsDir, "weights", "v1"));
  });

  it("adopts adapters an earlier learner left loaded, so retention unloads them", async () => {
    server.adapters.set("policy-v0", "/old/v0");
    server.adapters.set("policy-v1", "/old/v1");
    server.adapters.set("other-adapter", "/x");
    await publisher({ keep: 1 }).publish(2);
    assert.deepEqual([...server.adapters.keys()].sort(), ["other-adapter", "policy-v2"]);
  });

  it("replaces an adapter of the same name (400 already loaded) with the new weights", async () => {
    server.adapters.set("policy-v5", "/stale/v5");
    const out = await publisher().publish(5);
    assert.equal(server.adapters.get("policy-v5"), join(weightsDir, "v5"));
    assert.equal(out.servedModel, "policy-v5");
    assert.match(warnings.join("\n"), /already had adapter policy-v5/);
  });

  it("says how to enable runtime LoRA updating when the routes are missing", async () => {
    await start({ runtimeLoraUpdating: false });
    await assert.rejects(publisher().publish(1), (err: unknown) => {
      assert.ok(err instanceof PublishError);
      assert.equal(err.retryable, false);
      assert.equal(err.context.status, 404);
      assert.match(err.message, /VLLM_ALLOW_RUNTIME_LORA_UPDATING/);
      return true;
    });
  });

  it("reports vLLM's refusal of an adapter (rank over --max-lora-rank) without retrying", async () => {
    await start({ maxLoraRank: 8 });
    await assert.rejects(publisher({ writer: new FakeWeightWriter("honours", 64) }).publish(1), (err: unknown) => {
      assert.ok(err instanceof PublishError);
      assert.match(err.message, /HTTP 400 BadRequestError: LoRA rank 64 is greater than max_lora_rank 8/);
      return true;
    });
    assert.equal(server.http.requests.filter((r) => r.path === "/v1/load_lora_adapter").length, 1);
  });

  it("reads the older flat error shape too (404 No adapter found)", async () => {
    await start({ legacyErrors: true });
    const client = new VllmLoraClient(server.url, FAST);
    await assert.rejects(
      client.loadAdapter("policy-v1", join(weightsDir, "missing")),
      /HTTP 404 NotFoundError: .*No adapter found/,
    );
    assert.equal(await client.unloadAdapter("never-loaded"), "absent");
  });

  it("refuses a model without LoRA: vLLM serves versions as adapters", async () => {
    await assert.rejects(publisher({ writer: new FakeWeightWriter("no-lora") }).publish(1), /trains no LoRA adapter/);
    assert.equal(server.adapters.size, 0);
  });

  it("works behind an engine client that drops the format (checkpoint with the adapter files)", async () => {
    const out = await publisher({ writer: new FakeWeightWriter("drops-format") }).publish(2);
    assert.equal(server.adapters.get(out.servedModel), join(weightsDir, "v2"));
  });

  it("retries 5xx answers and dropped connections with backoff", async () => {
    server.http.inject({ kind: "status", status: 503 });
    server.http.inject({ kind: "reset" });
    const out = await publisher().publish(1);
    assert.equal(server.adapters.get(out.servedModel), join(weightsDir, "v1"));
    assert.equal(server.http.requests.filter((r) => r.path === "/v1/models").length, 3);
  });

  it("gives up after the retries with the last failure and the attempts", async () => {
    server.http.inject({ kind: "status", status: 500, body: "boom" }, 10);
    await assert.rejects(publisher().publish(1), (err: unknown) => {
      assert.ok(err instanceof PublishError);
      assert.equal(err.retryable, true);
      assert.equal(err.context.attempts, 3);
      assert.equal(err.context.status, 500);
      assert.match(err.message, /after 3 attempt\(s\): HTTP 500: boom/);
      return true;
    });
  });

  it("a server that never answers hits the per-attempt deadline", async () => {
    server.http.inject({ kind: "hang" }, 2);
    const t0 = Date.now();
    const policy = { timeoutMs: 200, retries: 1, backoffMs: 10 };
    await assert.rejects(
      new VllmLoraClient(server.url, policy).loadAdapter("a", "/p"),
      /after 2 attempt\(s\): no answer within 200 ms/,
    );
    assert.ok(Date.now() - t0 < 2_000);
  });

  it("a server that is down is a clear, retryable error", async () => {
    const url = server.url;
    await server.stop();
    await assert.rejects(
      publisher({ url, policy: { timeoutMs: 1_000, retries: 1, backoffMs: 10 } }).publish(1),
      (err: unknown) => {
        assert.ok(err instanceof PublishError);
        assert.equal(err.retryable, true);
        assert.match(
          err.message,
          new RegExp(`vllm: GET ${url}/v1/models failed after 2 attempt\\(s\\): connection failed \\(ECONNREFUSED`),
        );
        return true;
      },
    );
    server = await VllmTestServer.start();
  });

  it("sends the API key as a bearer token", async () => {
    await start({ apiKey: "s3cret" });
    await assert.rejects(publisher().publish(1), /HTTP 401/);
    await publisher({ policy: { ...FAST, apiKey: "s3cret" } }).publish(1);
    assert.ok(server.adapters.has("policy-v1"));
  });
});
