import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rewardSchema } from "@sluice/common";
import { UnsupportedConfigError } from "../errors.js";
import { buildChannels, scoreTrajectory } from "../scorer.js";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { ONI_CHANNEL, oniValues, turnAnnotationKeys, type LabelLookup } from "./oni.js";

class MapLabels implements LabelLookup {
  readonly map = new Map<string, number>();
  version = 0;
  get(key: string, fallback = 0): number {
    return this.map.get(key) ?? fallback;
  }
  set(key: string, label: number): void {
    this.map.set(key, label);
    this.version++;
  }
}

const step = (obs: string, act: string) => makeTurn(2, { observationText: obs, actionText: act });
const config = rewardSchema.parse({ oni: { enabled: true, cInt: 0.4, beta: 3 } });

void describe("ONI intrinsic channel", () => {
  test("is late-bound: 0 before labels arrive, label · bonus after, with the store version", () => {
    const labels = new MapLabels();
    const t = makeTrajectory({ turns: [step("ls", "a"), step("tests PASS", "b")] });
    const channels = buildChannels(config, { labels });
    const before = scoreTrajectory(t, config, channels);
    const oniBefore = before.channels.find((c) => c.name === ONI_CHANNEL);
    assert.deepEqual(oniBefore?.perTurn, [0, 0]);
    assert.equal(oniBefore?.producerVersion, "labels@0");
    assert.equal(before.reward, 1);

    const [k0, k1] = turnAnnotationKeys(t, config.oni.keyHexChars);
    labels.set(k1 ?? "", 1);
    const after = scoreTrajectory(t, config, channels);
    const oniAfter = after.channels.find((c) => c.name === ONI_CHANNEL);
    assert.deepEqual(oniAfter?.perTurn, [0, 1]);
    assert.equal(oniAfter?.weight, 0.4);
    assert.equal(oniAfter?.producerVersion, "labels@1");
    // r_t = c_ext · r_ext,t + c_int · r_int · N^(−β): 1 (outcome) + 0.4 · 1
    assert.ok(Math.abs(after.reward - 1.4) < 1e-12);
    // the episode-level outcome (1) lands on the last turn
    assert.deepEqual(after.perTurnReward, [0, 1.4]);
    assert.notEqual(k0, k1);
  });

  test("divides a step's label by N_ep^β when the step repeats inside an episode", () => {
    const labels = new MapLabels();
    const t = makeTrajectory({ turns: [step("x", "a"), step("x", "a"), step("y", "b"), step("x", "a")] });
    const keys = turnAnnotationKeys(t, 32);
    labels.set(keys[0] ?? "", 1);
    labels.set(keys[2] ?? "", 0.5);
    const values = oniValues(keys, labels, 3);
    // N_ep = 1, 2, 1, 3 → 1·1, 1·2^−3, 0.5·1, 1·3^−3
    assert.deepEqual(values, [1, 1 / 8, 0.5, 1 / 27]);
    // The count resets per episode: a new trajectory starts at N = 1 again.
    assert.equal(oniValues([keys[0] ?? ""], labels, 3)[0], 1);
  });

  test("scales the extrinsic channels by c_ext", () => {
    const labels = new MapLabels();
    const cfg = rewardSchema.parse({ oni: { enabled: true, cExt: 0.5, cInt: 0.4 } });
    const scored = scoreTrajectory(makeTrajectory(), cfg, buildChannels(cfg, { labels }));
    assert.equal(scored.channels.find((c) => c.name === "outcome")?.weight, 0.5);
    assert.equal(scored.reward, 0.5);
  });

  test("refuses classification and ranking without the engine-hosted reward model", () => {
    for (const rewardType of ["classification", "ranking"] as const) {
      const cfg = rewardSchema.parse({ oni: { enabled: true, rewardType } });
      assert.throws(() => buildChannels(cfg, { labels: new MapLabels() }), UnsupportedConfigError);
    }
  });

  test("keeps ONI off by default", () => {
    const cfg = rewardSchema.parse({});
    assert.equal(cfg.oni.enabled, false);
    assert.equal(cfg.prm.enabled, false);
    assert.ok(!buildChannels(cfg).some((c) => c.name === ONI_CHANNEL));
  });
});
