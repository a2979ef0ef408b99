import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts, unpackFloat32, unpackInt32 } from "@sluice/common";
import { buildTrainingSequence, oldestActionVersion } from "./sequence-builder.js";
import { makeTurn, type TurnFixture } from "./testing/fixtures.js";

function traj(turns: TurnFixture[], admitted = 0): contracts.Trajectory {
  return contracts.Trajectory.fromPartial({
    trajectoryId: "t",
    groupId: "g",
    groupSize: 1,
    turns: turns.map(makeTurn),
    admittedPolicyVersion: admitted,
  });
}

interface Case {
  name: string;
  turns: TurnFixture[];
  adv: number;
  ids: number[];
  mask: number[];
  advs: number[];
  oldLp: number[];
}

const cases: Case[] = [
  {
    name: "one turn: targets after the observation are actions",
    turns: [{ obs: [10, 11], act: [20, 21], logprobs: [-0.5, -0.25] }],
    adv: 2,
    ids: [10, 11, 20, 21],
    mask: [0, 1, 1],
    advs: [0, 2, 2],
    oldLp: [0, -0.5, -0.25],
  },
  {
    name: "two turns: the second observation is masked",
    turns: [
      { obs: [1], act: [2], logprobs: [-1] },
      { obs: [3, 4], act: [5, 6], logprobs: [-2, -3] },
    ],
    adv: -1,
    ids: [1, 2, 3, 4, 5, 6],
    mask: [1, 0, 0, 1, 1],
    advs: [-1, 0, 0, -1, -1],
    oldLp: [-1, 0, 0, -2, -3],
  },
  {
    name: "action_loss_mask zeros exclude tokens",
    turns: [{ obs: [1], act: [2, 3, 4], logprobs: [-1, -2, -3], mask: [1, 0, 1] }],
    adv: 0.5,
    ids: [1, 2, 3, 4],
    mask: [1, 0, 1],
    advs: [0.5, 0, 0.5],
    oldLp: [-1, 0, -3],
  },
  {
    name: "an action at position 0 has no context and is not a target",
    turns: [{ obs: [], act: [7, 8], logprobs: [-1, -2] }],
    adv: 1,
    ids: [7, 8],
    mask: [1],
    advs: [1],
    oldLp: [-2],
  },
  {
    name: "a single token gives empty per-position arrays",
    turns: [{ obs: [9], act: [] }],
    adv: 1,
    ids: [9],
    mask: [],
    advs: [],
    oldLp: [],
  },
];

void describe("buildTrainingSequence", () => {
  for (const c of cases) {
    void it(c.name, () => {
      const built = buildTrainingSequence(traj(c.turns), c.adv);
      const s = built.sequence;
      assert.deepEqual(unpackInt32(s.tokenIds), c.ids);
      assert.deepEqual(Array.from(s.lossMask), c.mask);
      assert.deepEqual(unpackFloat32(s.advantages), c.advs);
      assert.deepEqual(unpackFloat32(s.oldLogprobs), c.oldLp);
      assert.equal(built.lossTokens, c.mask.filter((m) => m === 1).length);
      assert.equal(built.tokens, c.ids.length);
      for (const arr of [s.lossMask.length, s.advantages.length / 4, s.oldLogprobs.length / 4]) {
        assert.equal(arr, Math.max(0, c.ids.length - 1));
      }
    });
  }
});

void describe("oldestActionVersion", () => {
  void it("is the minimum version over all action tokens", () => {
    const t = traj([
      { obs: [1], act: [2, 3], versions: [4, 3] },
      { obs: [1], act: [2], versions: [5] },
    ]);
    assert.equal(oldestActionVersion(t), 3);
  });
  void it("falls back to the admitted version without action tokens", () => {
    assert.equal(oldestActionVersion(traj([{ obs: [1], act: [] }], 7)), 7);
  });
});
