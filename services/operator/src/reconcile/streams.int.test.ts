import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KV_KEYS, connectNats, contracts, experimentSubjects, openKv, type NatsHandles } from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { testLogger } from "../testing/fakes.js";
import { NatsExperimentResources } from "./streams.js";

async function streamNames(nats: NatsHandles): Promise<string[]> {
  const out: string[] = [];
  for await (const s of nats.jsm.streams.list()) out.push(s.config.name);
  return out.sort();
}

void describe("NatsExperimentResources against a real nats-server", () => {
  let server: NatsServerHandle;
  let client: NatsHandles;
  let resources: NatsExperimentResources;

  before(async () => {
    server = await startNatsServer();
    client = await connectNats(server.url, "test");
    resources = new NatsExperimentResources(server.url, testLogger());
  });
  after(async () => {
    await resources.close();
    await client.close();
    await server.stop();
  });

  void it("creates the streams, KV and object buckets; removes them all (idempotently); leaves other experiments alone", async () => {
    await resources.ensure("exp-a");
    await resources.ensure("exp-a");
    await resources.ensure("exp-b");
    const a = experimentSubjects("exp-a");
    assert.deepEqual(
      (await streamNames(client)).filter((n) => /EXP_A|exp_a/.test(n)),
      [`KV_${a.kvBucket}`, `OBJ_${a.blobBucket}`, a.eventsStream, a.scoredStream, a.trajStream].sort(),
    );
    await resources.remove("exp-a");
    await resources.remove("exp-a");
    const left = await streamNames(client);
    assert.equal(left.filter((n) => /EXP_A|exp_a/.test(n)).length, 0);
    assert.equal(left.filter((n) => /EXP_B|exp_b/.test(n)).length, 5);
  });

  void it("reads progress from the learner's policy record, and nothing before there is one", async () => {
    await resources.ensure("exp-c");
    assert.equal(await resources.read("exp-c"), undefined);
    assert.equal(await resources.read("never-created"), undefined, "reading does not create a bucket");
    const kv = await openKv(client.nc, experimentSubjects("exp-c").kvBucket);
    const record = { version: 7, weightsUri: "", publishedAtMs: 1_700_000_000_000, step: 7 };
    await kv.put(KV_KEYS.policy, contracts.PolicyRecord.encode(record).finish());
    assert.deepEqual(await resources.read("exp-c"), { step: 7, policyVersion: 7, publishedAtMs: 1_700_000_000_000 });
  });

  void it("fails with a StreamsError (within its deadline) when NATS is unreachable", async () => {
    const down = new NatsExperimentResources("nats://127.0.0.1:1", testLogger());
    await assert.rejects(down.ensure("exp-d"), { name: "StreamsError" });
    await down.close();
  });
});
