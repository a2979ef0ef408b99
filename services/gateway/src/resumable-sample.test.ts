import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, mixSeed, packFloat32, packInt32, unpackInt32 } from "@sluice/common";
import { MAX_RESUMES, sampleResumable, type SampleSettings } from "./resumable-sample.js";

interface Segment {
  ids: number[];
  finish: string;
  version: number;
}

function scripted(segments: Segment[]) {
  const requests: contracts.SampleRequest[] = [];
  const call = async (req: contracts.SampleRequest): Promise<contracts.SampleResponse> => {
    requests.push(req);
    const s = segments[Math.min(requests.length - 1, segments.length - 1)]!;
    return {
      sequences: [
        {
          promptIndex: 0,
          tokenIds: packInt32(s.ids),
          logprobs: packFloat32(s.ids.map((id) => -id / 100)),
          finishReason: s.finish,
        },
      ],
      policyVersion: s.version,
    };
  };
  return { requests, call };
}

const settings: SampleSettings = {
  model: "policy",
  maxTokens: 10,
  temperature: 1,
  topP: 1,
  seed: 42,
  interruptible: true,
};

void describe("sampleResumable", () => {
  void it("resumes an interrupted generation under the new weights; each token keeps its version", async () => {
    const { requests, call } = scripted([
      { ids: [11, 12], finish: "interrupted", version: 3 },
      { ids: [13], finish: "interrupted", version: 4 },
      { ids: [14, 15], finish: "stop", version: 5 },
    ]);
    const out = await sampleResumable(call, [1, 2], settings);
    assert.deepEqual(out.tokenIds, [11, 12, 13, 14, 15]);
    assert.deepEqual(out.policyVersions, [3, 3, 4, 5, 5]);
    assert.deepEqual(
      out.logprobs.map((x) => Math.round(x * 100)),
      [-11, -12, -13, -14, -15],
    );
    assert.equal(out.finishReason, "stop");
    assert.equal(out.policyVersion, 5);
    assert.equal(out.resumes, 2);
    // Each resume continues from prompt + tokens so far, for the tokens left.
    assert.deepEqual(
      requests.map((r) => unpackInt32(r.prompts[0]!)),
      [
        [1, 2],
        [1, 2, 11, 12],
        [1, 2, 11, 12, 13],
      ],
    );
    assert.deepEqual(
      requests.map((r) => r.params!.maxTokens),
      [10, 8, 7],
    );
    assert.deepEqual(
      requests.map((r) => Number(r.params!.seed)),
      [42, mixSeed(42, 1), mixSeed(42, 2)],
    );
    assert.ok(requests.every((r) => r.params!.interruptible));
  });

  void it("an interruption at max_tokens ends as length", async () => {
    const { call } = scripted([{ ids: [1, 2, 3], finish: "interrupted", version: 1 }]);
    const out = await sampleResumable(call, [9], { ...settings, maxTokens: 3 });
    assert.equal(out.finishReason, "length");
    assert.equal(out.resumes, 0);
  });

  void it("never resumes forever", async () => {
    const { requests, call } = scripted([{ ids: [], finish: "interrupted", version: 1 }]);
    const out = await sampleResumable(call, [9], settings);
    assert.equal(out.resumes, MAX_RESUMES);
    assert.equal(requests.length, MAX_RESUMES + 1);
    assert.equal(out.finishReason, "length");
  });

  void it("an unseeded request stays unseeded on resume", async () => {
    const { requests, call } = scripted([
      { ids: [5], finish: "interrupted", version: 1 },
      { ids: [6], finish: "length", version: 2 },
    ]);
    await sampleResumable(call, [9], { ...settings, seed: 0 });
    assert.deepEqual(
      requests.map((r) => Number(r.params!.seed)),
      [0, 0],
    );
  });
});
