import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, packFloat32, unpackFloat32, unpackInt32 } from "@sluice/common";
import { withGuidedContextLogprobs } from "./guided-context.js";
import { guidedDpoPairs, dpoSequences } from "./guided-dpo.js";
import { planGuidedStep } from "./guided-step.js";
import { stripGuidance } from "./guidance-strip.js";
import type { ReadyGroup } from "./group-buffer.js";
import { buildStepBatch } from "./step-batch.js";
import { makeScored, testSpec } from "./testing/fixtures.js";

const { FailureKind, LossKind } = contracts;

/** Guidance tokens are ids ≥ 900 so a leak is visible on token ids. */
const PROMPT = [1, 2, 3, 4];
const GUIDANCE = [900, 901, 902];
const noop = { ack: () => undefined };
const OPTS = { estimator: "grpo" } as const;

interface Member {
  id: string;
  reward: number;
  guided?: boolean;
  /** Span of the guidance in turn 0's observation; default its true position. */
  span?: [number, number];
  parent?: string;
  act?: number[];
}

function scored(m: Member, groupId = "g"): contracts.ScoredTrajectory {
  const obs0 = m.guided ? [...PROMPT.slice(0, 2), ...GUIDANCE, ...PROMPT.slice(2)] : PROMPT;
  const s = makeScored({
    id: m.id,
    groupId,
    groupSize: 4,
    reward: m.reward,
    turns: [
      { obs: obs0, act: m.act ?? [10, 11], logprobs: [-0.5, -0.25] },
      { obs: [5, 6], act: [12], logprobs: [-0.125] },
    ],
  });
  const t = s.trajectory!;
  t.outcome = contracts.Outcome.fromPartial({ score: m.reward });
  if (m.guided) {
    const [start, end] = m.span ?? [2, 2 + GUIDANCE.length];
    t.guidanceRound = 1;
    t.guidedFromTrajectoryId = m.parent ?? "";
    t.guidance = ["environment_feedback", "plan_hint"].map((kind) => ({
      kind,
      text: "…",
      round: 1,
      injectedAtTurn: 0,
      tokenStart: start,
      tokenEnd: end,
      source: "test",
    }));
  }
  return s;
}

function group(members: Member[], groupId = "g"): ReadyGroup<typeof noop> {
  return {
    groupId,
    groupSize: members.length,
    partial: false,
    valid: members.map((m) => ({ scored: scored(m, groupId), msg: noop, version: 0 })),
  };
}

/** logprob of target t in a sequence of n tokens = −n/1000 − t/1e5: differs between contexts. */
function fakeEngine(calls: number[][][], models: string[] = []) {
  return {
    computeLogprobs: (req: contracts.ComputeLogprobsRequest) => {
      calls.push(req.sequences.map((b) => unpackInt32(b)));
      models.push(req.model);
      return Promise.resolve({
        logprobs: req.sequences.map((b) => {
          const n = b.byteLength / 4;
          return packFloat32(Array.from({ length: n - 1 }, (_, t) => -n / 1000 - t / 1e5));
        }),
        policyVersion: 0,
      });
    },
  };
}

const G = (): ReadyGroup<typeof noop>[] => [
  group([
    { id: "a0", reward: 0 },
    { id: "a1", reward: 1 },
    { id: "a2", reward: 1, guided: true, parent: "a0" },
  ]),
];

function lossPositions(s: contracts.TrainingSequence): number[] {
  return [...s.lossMask].flatMap((m, p) => (m ? [p] : []));
}

void describe("Agent-RLVR training context", () => {
  void it("strip leaves no guidance token in the training tokens and yields the unguided context", () => {
    const batch = buildStepBatch(G(), { ...OPTS, guidedContext: "strip" });
    assert.equal(batch.sequences.length, 3);
    for (const s of batch.sequences) {
      const ids = unpackInt32(s.tokenIds);
      assert.ok(
        ids.every((id) => id < 900),
        `guidance token in ${ids.join(",")}`,
      );
    }
    const stripped = unpackInt32(batch.sequences[2]!.tokenIds);
    const unguided = unpackInt32(batch.sequences[0]!.tokenIds);
    assert.deepEqual(stripped, unguided, "same prompt and actions as an unguided attempt");
    assert.equal(batch.guided.length, 1);
    assert.equal(batch.guided[0]!.index, 2);
    assert.equal(batch.guided[0]!.guided, undefined, "strip needs no guided build");
  });

  void it("keep trains on the guided context with the sampled logprobs", () => {
    const batch = buildStepBatch(G(), { ...OPTS, guidedContext: "keep" });
    assert.ok(unpackInt32(batch.sequences[2]!.tokenIds).includes(900));
    assert.equal(batch.guided.length, 0);
  });

  void it("a guided trajectory whose span is unknown keeps its guided context and is counted", () => {
    const groups = [
      group([
        { id: "a0", reward: 0 },
        { id: "a1", reward: 1, guided: true, span: [0, 0] },
      ]),
    ];
    const batch = buildStepBatch(groups, { ...OPTS, guidedContext: "strip" });
    assert.equal(batch.unstrippable, 1);
    assert.ok(unpackInt32(batch.sequences[1]!.tokenIds).includes(900));
    assert.equal(stripGuidance(groups[0]!.valid[1]!.scored.trajectory!), undefined);
  });

  void it("strip recomputes the behaviour logprobs on the stripped context", async () => {
    const batch = buildStepBatch(G(), { ...OPTS, guidedContext: "strip" });
    const calls: number[][][] = [];
    const out = await withGuidedContextLogprobs(
      fakeEngine(calls),
      "policy",
      batch.sequences,
      batch.guided,
      "strip",
      64,
    );
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], [unpackInt32(batch.sequences[2]!.tokenIds)], "only the guided sequence, stripped");
    const s = out[2]!;
    const n = s.tokenIds.byteLength / 4;
    const old = unpackFloat32(s.oldLogprobs);
    for (const p of lossPositions(s)) assert.ok(Math.abs(old[p]! - (-n / 1000 - p / 1e5)) < 1e-6);
    assert.equal(out[0], batch.sequences[0], "unguided sequences untouched");
  });

  void it("strip_with_is trains on the stripped tokens with π_old recomputed on the guided context", async () => {
    const batch = buildStepBatch(G(), { ...OPTS, guidedContext: "strip_with_is" });
    const calls: number[][][] = [];
    const out = await withGuidedContextLogprobs(
      fakeEngine(calls),
      "policy",
      batch.sequences,
      batch.guided,
      "strip_with_is",
      64,
    );
    const guidedIds = calls[0]![0]!;
    assert.ok(guidedIds.includes(900), "the denominator is scored on the guided context");
    const s = out[2]!;
    assert.ok(
      unpackInt32(s.tokenIds).every((id) => id < 900),
      "the numerator's context is unguided",
    );
    const nGuided = guidedIds.length;
    const guidedLoss = lossPositions(batch.guided[0]!.guided!);
    const old = unpackFloat32(s.oldLogprobs);
    const positions = lossPositions(s);
    assert.equal(positions.length, 3);
    positions.forEach((p, k) => {
      // ρ's denominator: the k-th action token's logprob in the guided sequence (shifted by 3 guidance tokens).
      assert.equal(guidedLoss[k], p + GUIDANCE.length);
      assert.ok(Math.abs(old[p]! - (-nGuided / 1000 - guidedLoss[k]! / 1e5)) < 1e-6, `position ${p}`);
    });
  });
});

void describe("Agent-RLVR DPO pairs", () => {
  void it("pairs each guided success with the failure it was guided from, once", () => {
    const groups = [
      group([
        { id: "b0", reward: 0 },
        { id: "b1", reward: 0 },
        { id: "b2", reward: 1, guided: true, parent: "b1" },
        { id: "b3", reward: 1, guided: true, parent: "b1" },
        { id: "b4", reward: 0, guided: true, parent: "b0" },
      ]),
      group(
        [
          { id: "c0", reward: 1 },
          { id: "c1", reward: 1 },
        ],
        "h",
      ),
    ];
    const pairs = guidedDpoPairs(groups, 1);
    assert.deepEqual(
      pairs.map((p) => [p.chosen.trajectoryId, p.rejected.trajectoryId]),
      [
        ["b2", "b1"],
        ["b3", "b0"],
      ],
    );
    const seqs = dpoSequences(pairs, "strip");
    assert.equal(seqs.length, 4);
    for (const s of seqs) assert.ok(unpackInt32(s.tokenIds).every((id) => id < 900));
  });

  void it("update dpo: the step trains DPO pairs with reference logprobs from the engine", async () => {
    const spec = testSpec({ guidance: { enabled: true, update: "dpo", dpoBeta: 0.3 } });
    const groups = G();
    const batch = buildStepBatch(groups, { ...OPTS, guidedContext: spec.guidance.context });
    const calls: number[][][] = [];
    const plan = await planGuidedStep(fakeEngine(calls), spec, groups, batch, {
      ...contracts.LossConfig.fromPartial({ kind: LossKind.LOSS_KIND_PPO_CLIP }),
    });
    assert.equal(plan.pairwise, true);
    assert.equal(plan.dpoPairs, 1);
    assert.equal(plan.loss.kind, LossKind.LOSS_KIND_DPO);
    assert.ok(Math.abs(plan.loss.dpoBeta - 0.3) < 1e-6);
    assert.equal(plan.sequences.length, 2);
    const [w, l] = plan.sequences;
    assert.deepEqual(calls[0], [unpackInt32(w!.tokenIds), unpackInt32(l!.tokenIds)]);
    const n = w!.tokenIds.byteLength / 4;
    const ref = unpackFloat32(w!.refLogprobs);
    const p = lossPositions(w!)[0]!;
    assert.ok(Math.abs(ref[p]! - (-n / 1000 - p / 1e5)) < 1e-6, "π_ref at the response tokens");
    assert.deepEqual(unpackFloat32(w!.advantages), new Array<number>(n - 1).fill(0));
  });

  void it("update dpo takes π_ref from the frozen reference model when the engine hosts one", async () => {
    const spec = testSpec({ guidance: { enabled: true, update: "dpo" }, algorithm: { klCoef: 0.05 } });
    const groups = G();
    const batch = buildStepBatch(groups, { ...OPTS, guidedContext: spec.guidance.context });
    const models: string[] = [];
    await planGuidedStep(fakeEngine([], models), spec, groups, batch, contracts.LossConfig.fromPartial({}));
    assert.deepEqual(models, ["policy-ref"]);
    const plain = testSpec({ guidance: { enabled: true, update: "dpo" } });
    const stepStart: string[] = [];
    await planGuidedStep(fakeEngine([], stepStart), plain, groups, batch, contracts.LossConfig.fromPartial({}));
    assert.deepEqual(stepStart, ["policy"], "without a reference model: the weights at the start of the step");
  });

  void it("update dpo without a pair falls back to the policy-gradient batch (stripped)", async () => {
    const spec = testSpec({ guidance: { enabled: true, update: "dpo" } });
    const groups = [
      group([
        { id: "a0", reward: 1 },
        { id: "a1", reward: 1 },
      ]),
    ];
    const batch = buildStepBatch(groups, { ...OPTS, guidedContext: "strip" });
    const plan = await planGuidedStep(fakeEngine([]), spec, groups, batch, contracts.LossConfig.fromPartial({}));
    assert.equal(plan.pairwise, false);
    assert.equal(plan.sequences, batch.sequences);
  });

  void it("guidance off: the batch passes through untouched", async () => {
    const spec = testSpec();
    const batch = buildStepBatch(G(), OPTS);
    const plan = await planGuidedStep(fakeEngine([]), spec, G(), batch, contracts.LossConfig.fromPartial({}));
    assert.equal(plan.sequences, batch.sequences);
    assert.equal(FailureKind.FAILURE_KIND_NONE, 1);
  });
});
