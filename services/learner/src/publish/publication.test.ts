import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger, createMetricsRegistry, type EventInput } from "@sluice/common";
import { PublishError } from "./errors.js";
import { WeightPublication } from "./publication.js";
import { EnginePublisher, type PublishedPolicy, type WeightPublisher } from "./publisher.js";

class ScriptedPublisher implements WeightPublisher {
  readonly backend = "vllm" as const;
  constructor(private readonly outcomes: (PublishedPolicy | Error)[]) {}
  async publish(): Promise<PublishedPolicy> {
    const next = this.outcomes.shift();
    if (!next) throw new Error("no more outcomes");
    if (next instanceof Error) throw next;
    return next;
  }
}

function setup(publisher: WeightPublisher) {
  const events: EventInput[] = [];
  const registry = createMetricsRegistry("learner", "test");
  const pub = new WeightPublication({
    publisher,
    registry,
    events: { emit: async (e) => void events.push(e) },
    logger: createLogger({ experiment: "test", component: "learner", write: () => {} }),
  });
  return { pub, events, registry };
}

const refused = () =>
  new PublishError("vllm refused to load adapter policy-v2", {
    backend: "vllm",
    url: "http://h/v1/load_lora_adapter",
    status: 400,
  });

describe("WeightPublication", () => {
  it("the engine backend publishes the engine's model name, as before", async () => {
    const { pub, events } = setup(new EnginePublisher("policy"));
    assert.deepEqual(await pub.publish(0, 0), { servedModel: "policy", weightsUri: "engine://policy" });
    assert.equal(events.length, 0);
  });

  it("a failure after a successful publish is an error event + metric, and resolves undefined", async () => {
    const ok = { servedModel: "policy-v1", weightsUri: "file:///w/v1" };
    const { pub, events, registry } = setup(new ScriptedPublisher([ok, refused()]));
    assert.deepEqual(await pub.publish(1, 0), ok);
    assert.equal(await pub.publish(2, 1), undefined);
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.kind, "weight_publish_failed");
    assert.equal(e.severity, "error");
    assert.equal(e.step, 1);
    assert.deepEqual(e.attributes, {
      backend: "vllm",
      version: "2",
      url: "http://h/v1/load_lora_adapter",
      status: "400",
    });
    assert.match(e.message ?? "", /stays at the last served version: vllm refused/);
    const text = await registry.metrics();
    assert.match(text, /sluice_learner_weight_publish_failures_total\{[^}]*backend="vllm"[^}]*\} 1\n/);
    assert.match(text, /sluice_learner_served_policy_version\{[^}]*\} 1\n/);
  });

  it("the first publish failing is fatal (and still reported)", async () => {
    const { pub, events } = setup(new ScriptedPublisher([refused()]));
    await assert.rejects(pub.publish(0, 0), PublishError);
    assert.equal(events[0]?.kind, "weight_publish_failed");
  });
});
