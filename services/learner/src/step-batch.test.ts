import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, unpackFloat32 } from "@sluice/common";
import { GroupBuffer } from "./group-buffer.js";
import { buildStepBatch, lossTokensOf, microbatches, miniBatches } from "./step-batch.js";
import { lossConfigFromSpec } from "./loss-config.js";
import { makeScored, testSpec } from "./testing/fixtures.js";

const ack = { ack: () => undefined };

void describe("buildStepBatch", () => {
  void it("computes group statistics over valid members only, never scoring infra failures as zero", () => {
    const buf = new GroupBuffer<typeof ack>({ groupTimeoutMs: 1000 });
    buf.add(makeScored({ id: "a", groupId: "G", groupSize: 3, reward: 1 }), ack);
    buf.add(makeScored({ id: "b", groupId: "G", groupSize: 3, reward: 3 }), ack);
    buf.add(
      makeScored({
        id: "c",
        groupId: "G",
        groupSize: 3,
        reward: 0,
        failure: contracts.FailureKind.FAILURE_KIND_SANDBOX_ERROR,
      }),
      ack,
    );
    const groups = buf.takeGroups(1, 0, 0)!;
    const batch = buildStepBatch(groups, { estimator: "dr_grpo" });
    // mean over {1, 3} = 2; with c scored as 0 it would have been 4/3
    assert.deepEqual(
      [...batch.advantages.entries()],
      [
        ["a", -1],
        ["b", 1],
      ],
    );
    assert.equal(batch.trained, 2);
    assert.equal(batch.rewardMean, 2);
    assert.equal(batch.sequences.length, 2);
    // default fixture: obs [1,2], act [3,4] → loss mask [0,1,1]
    assert.equal(batch.totalLossTokens, 4);
    assert.deepEqual(unpackFloat32(batch.sequences[0]!.advantages), [0, -1, -1]);
  });

  void it("an all-equal group has zero advantages and still counts as trained", () => {
    const buf = new GroupBuffer<typeof ack>({ groupTimeoutMs: 1000 });
    for (const id of ["a", "b"]) buf.add(makeScored({ id, groupId: "G", groupSize: 2, reward: 0.5 }), ack);
    const batch = buildStepBatch(buf.takeGroups(1, 0, 0)!, { estimator: "grpo" });
    assert.equal(batch.trained, 2);
    assert.deepEqual([...batch.advantages.values()], [0, 0]);
  });

  void it("turn-level credit gives each turn its own group advantage", () => {
    const twoTurns = [
      { obs: [1], act: [2], versions: [0] },
      { obs: [3], act: [4], versions: [0] },
    ];
    const buf = new GroupBuffer<typeof ack>({ groupTimeoutMs: 1000 });
    // a: right then wrong; b: wrong then right. Same episode reward, opposite turns.
    for (const [id, perTurn] of [
      ["a", [1, 0]],
      ["b", [0, 1]],
    ] as const) {
      const s = makeScored({ id, groupId: "G", groupSize: 2, reward: 1, turns: twoTurns });
      s.perTurnReward = [...perTurn];
      buf.add(s, ack);
    }
    const groups = buf.takeGroups(1, 0, 0)!;
    const episode = buildStepBatch(groups, { estimator: "dr_grpo" });
    assert.deepEqual(unpackFloat32(episode.sequences[0]!.advantages), [0, 0, 0]);
    const turn = buildStepBatch(groups, { estimator: "dr_grpo", creditAssignment: "turn" });
    // tokens [1,2,3,4]; targets 2 (turn 0 action), 3 (observation), 4 (turn 1 action)
    assert.deepEqual(unpackFloat32(turn.sequences[0]!.advantages), [0.5, 0, -0.5]);
    assert.deepEqual(unpackFloat32(turn.sequences[1]!.advantages), [-0.5, 0, 0.5]);
  });
});

void describe("buildStepBatch order", () => {
  void it("sends groups and members in id order whatever order they arrived in", () => {
    const arrivals: Array<[string, string]> = [
      ["G2", "G2-1"],
      ["G1", "G1-1"],
      ["G2", "G2-0"],
      ["G1", "G1-0"],
    ];
    const buf = new GroupBuffer<typeof ack>({ groupTimeoutMs: 1000 });
    arrivals.forEach(([groupId, id], i) => buf.add(makeScored({ id, groupId, groupSize: 2, reward: i }), ack));
    const batch = buildStepBatch(buf.takeGroups(2, 0, 0)!, { estimator: "dr_grpo" });
    assert.deepEqual([...batch.advantages.keys()], ["G1-0", "G1-1", "G2-0", "G2-1"]);
    // dr_grpo: G1 rewards (3, 1), G2 rewards (2, 0); sequences follow the same order
    assert.deepEqual(
      batch.sequences.map((s) => unpackFloat32(s.advantages)[1]),
      [1, -1, 1, -1],
    );
  });
});

void describe("miniBatches", () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  void it("splits a seeded shuffle into near-equal parts that cover every item once", () => {
    const parts = miniBatches(items, 4, 7);
    assert.deepEqual(
      parts.map((p) => p.length),
      [2, 3, 2, 3],
    );
    assert.deepEqual(
      parts.flat().sort((a, b) => a - b),
      items,
    );
    assert.notDeepEqual(parts.flat(), items);
  });
  void it("is a pure function of the seed", () => {
    assert.deepEqual(miniBatches(items, 3, 1), miniBatches(items, 3, 1));
    assert.notDeepEqual(miniBatches(items, 3, 1), miniBatches(items, 3, 2));
  });
  void it("never makes empty parts, and one part keeps every item", () => {
    assert.deepEqual(
      miniBatches([1, 2], 5, 1).map((p) => p.length),
      [1, 1],
    );
    assert.deepEqual(miniBatches([], 3, 1), [[]]);
    assert.equal(miniBatches(items, 1, 3)[0]!.length, 10);
  });
  void it("counts a sequence's loss tokens from its mask", () => {
    const seq = { tokenIds: new Uint8Array(), lossMask: new Uint8Array([0, 1, 1, 0, 1]) } as never;
    assert.equal(lossTokensOf(seq), 3);
  });
});

void describe("microbatches", () => {
  void it("splits into chunks of at most the given size", () => {
    assert.deepEqual(microbatches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(microbatches([], 3), []);
  });
});

void describe("lossConfigFromSpec", () => {
  void it("maps spec.algorithm to the engine's LossConfig", () => {
    const c = lossConfigFromSpec(
      testSpec({ algorithm: { loss: "reinforce", lossNormalization: "constant" } }).algorithm,
    );
    assert.equal(c.kind, contracts.LossKind.LOSS_KIND_REINFORCE);
    assert.equal(c.normalization, contracts.LossNormalization.LOSS_NORMALIZATION_CONSTANT);
    assert.equal(c.normalizationConstant, 1024);
    const d = lossConfigFromSpec(testSpec().algorithm);
    assert.equal(d.kind, contracts.LossKind.LOSS_KIND_PPO_CLIP);
    assert.equal(d.normalization, contracts.LossNormalization.LOSS_NORMALIZATION_TOKEN_MEAN);
    assert.ok(Math.abs(d.clipEpsilonLow - 0.2) < 1e-9 && Math.abs(d.clipEpsilonHigh - 0.28) < 1e-9);
  });
});

void describe("completion rate (CR) of a step", () => {
  /** A scored trajectory whose episode did or did not submit. */
  const episode = (
    id: string,
    groupId: string,
    reward: number,
    submitted: boolean | undefined,
    failure?: contracts.FailureKind,
  ) => {
    const s = makeScored({ id, groupId, groupSize: 3, reward, ...(failure === undefined ? {} : { failure }) });
    if (submitted === undefined) return s;
    const outcome = contracts.Outcome.fromPartial({
      level: submitted
        ? contracts.OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL
        : contracts.OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT,
      submitted,
    });
    return { ...s, trajectory: { ...s.trajectory!, outcome } };
  };

  void it("is the share of the step's valid trajectories that submitted, infra failures left out", () => {
    const buf = new GroupBuffer<typeof ack>({ groupTimeoutMs: 1000 });
    // Group G: 2 of 3 submitted. Group H: 0 of 2 valid submitted (h3 is an infra failure that "submitted").
    buf.add(episode("g1", "G", 1, true), ack);
    buf.add(episode("g2", "G", 0, true), ack);
    buf.add(episode("g3", "G", 2, false), ack);
    buf.add(episode("h1", "H", 2, false), ack);
    buf.add(episode("h2", "H", 2, undefined), ack); // no outcome: not submitted
    buf.add(episode("h3", "H", 0, true, contracts.FailureKind.FAILURE_KIND_SANDBOX_ERROR), ack);
    const groups = buf.takeGroups(2, 0, 0)!;
    const batch = buildStepBatch(groups, { estimator: "grpo" });
    assert.equal(batch.trained, 5);
    assert.equal(batch.submitted, 2);
    assert.equal(batch.completionRate, 2 / 5);
  });

  void it("is 0 for a step with no valid trajectories and 1 when every one submitted", () => {
    assert.equal(buildStepBatch([], { estimator: "grpo" }).completionRate, 0);
    const buf = new GroupBuffer<typeof ack>({ groupTimeoutMs: 1000 });
    for (const id of ["a", "b", "c"]) buf.add(episode(id, "G", 1, true), ack);
    const batch = buildStepBatch(buf.takeGroups(1, 0, 0)!, { estimator: "grpo" });
    assert.deepEqual([batch.submitted, batch.completionRate], [3, 1]);
  });
});

void describe("REINFORCE++ with baseline", () => {
  void it("subtracts each group's mean, then normalises over the whole batch", () => {
    const buf = new GroupBuffer<typeof ack>({ groupTimeoutMs: 1000 });
    // group A rewards (1, 3) → (−1, 1); group B rewards (0, 0, 6) → (−2, −2, 4)
    for (const [id, g, size, r] of [
      ["a0", "A", 2, 1],
      ["a1", "A", 2, 3],
      ["b0", "B", 3, 0],
      ["b1", "B", 3, 0],
      ["b2", "B", 3, 6],
    ] as const) {
      buf.add(makeScored({ id, groupId: g, groupSize: size, reward: r }), ack);
    }
    const batch = buildStepBatch(buf.takeGroups(2, 0, 0)!, { estimator: "reinforce_pp" });
    // batch values (−1, 1, −2, −2, 4): mean 0, population std sqrt(26/5)
    const std = Math.sqrt(26 / 5);
    const expected = [-1, 1, -2, -2, 4].map((x) => x / (std + 1e-6));
    const got = ["a0", "a1", "b0", "b1", "b2"].map((id) => batch.advantages.get(id)!);
    got.forEach((g, i) => assert.ok(Math.abs(g - expected[i]!) < 1e-9, `${g} vs ${expected[i]}`));
  });
});
