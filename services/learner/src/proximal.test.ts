import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, packFloat32, packInt32, unpackFloat32 } from "@sluice/common";
import { EngineResponseError } from "./errors.js";
import { withProximalLogprobs, withReferenceLogprobs } from "./proximal.js";

function seq(ids: number[]): contracts.TrainingSequence {
  const n = ids.length - 1;
  return {
    tokenIds: packInt32(ids),
    lossMask: new Uint8Array(n).fill(1),
    advantages: packFloat32(new Array<number>(n).fill(1)),
    oldLogprobs: packFloat32(new Array<number>(n).fill(-1)),
    proxLogprobs: new Uint8Array(),
    refLogprobs: new Uint8Array(),
  };
}

void describe("withProximalLogprobs", () => {
  void it("asks the engine for each sequence's logprobs in microbatches and attaches them", async () => {
    const calls: number[] = [];
    const engine = {
      computeLogprobs: async (req: contracts.ComputeLogprobsRequest) => {
        calls.push(req.sequences.length);
        // logprob of target t = −(token id) / 10, so each sequence gets its own values
        return {
          logprobs: req.sequences.map((b) =>
            packFloat32([...new Int32Array(b.slice().buffer)].slice(1).map((x) => -x / 10)),
          ),
          policyVersion: 3,
        };
      },
    };
    const out = await withProximalLogprobs(engine, "policy", [seq([1, 2, 3]), seq([4, 5]), seq([6, 7, 8])], 2);
    assert.deepEqual(calls, [2, 1]);
    assert.deepEqual(
      out.map((s) => unpackFloat32(s.proxLogprobs).map((x) => Math.round(x * 10))),
      [[-2, -3], [-5], [-7, -8]],
    );
    // behaviour logprobs are untouched
    assert.deepEqual(unpackFloat32(out[0]!.oldLogprobs), [-1, -1]);
  });

  void it("rejects an engine answer with the wrong count or length", async () => {
    const short = { computeLogprobs: async () => ({ logprobs: [packFloat32([-1])], policyVersion: 0 }) };
    await assert.rejects(withProximalLogprobs(short, "policy", [seq([1, 2, 3])], 8), EngineResponseError);
    const none = { computeLogprobs: async () => ({ logprobs: [], policyVersion: 0 }) };
    await assert.rejects(withProximalLogprobs(none, "policy", [seq([1, 2])], 8), EngineResponseError);
  });
});

void describe("withReferenceLogprobs", () => {
  void it("asks the reference model and fills ref_logprobs, leaving proximal and behaviour logprobs alone", async () => {
    const models: string[] = [];
    const engine = {
      computeLogprobs: async (req: contracts.ComputeLogprobsRequest) => {
        models.push(req.model);
        return {
          logprobs: req.sequences.map((b) => packFloat32(new Array<number>(b.byteLength / 4 - 1).fill(-0.5))),
          policyVersion: 0,
        };
      },
    };
    const out = await withReferenceLogprobs(engine, "policy-ref", [seq([1, 2, 3])], 8);
    assert.deepEqual(models, ["policy-ref"]);
    assert.deepEqual(unpackFloat32(out[0]!.refLogprobs), [-0.5, -0.5]);
    assert.equal(out[0]!.proxLogprobs.byteLength, 0);
    assert.deepEqual(unpackFloat32(out[0]!.oldLogprobs), [-1, -1]);
  });
});
