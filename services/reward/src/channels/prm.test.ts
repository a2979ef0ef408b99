import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rewardSchema } from "@sluice/common";
import { startLocalJudge, type LocalJudge } from "../oni/testing/local-judge.js";
import { buildChannels, scoreTrajectory } from "../scorer.js";
import { judgedChannels } from "../judged-channels.js";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { createPrmParser, PRM_CHANNEL, PrmJudge, prmPrompt, prmScoresFromAnswers } from "./prm.js";

const prmConfig = (judge: Record<string, unknown> = {}) =>
  rewardSchema.parse({ prm: { enabled: true, judge: { model: "prm-judge", ...judge } } });

void describe("generative PRM channel", { timeout: 20_000 }, () => {
  let judge: LocalJudge;
  before(async () => {
    // Answers with the number after "score-me:" in the step, or prose without a score.
    judge = await startLocalJudge({
      answer: (p) => {
        const m = /score-me:(\S+)/.exec(p);
        return m ? `Reasoning… Score: ${m[1] ?? ""}` : "no idea";
      },
    });
  });
  after(async () => {
    await judge?.close();
  });

  test("parses the last score in range and defaults the rest", () => {
    const cfg = prmConfig().prm;
    const parse = createPrmParser(cfg);
    assert.equal(parse("Score: 0.2 … Score: -0.75"), -0.75);
    assert.equal(parse("Score: 3"), undefined);
    assert.equal(parse("nothing"), undefined);
    const s = prmScoresFromAnswers(["Score: 1", "Score: 7", undefined, "?"], parse, 0);
    assert.deepEqual(s.perTurn, [1, 0, 0, 0]);
    assert.equal(s.failed, 1);
    assert.equal(s.unparsed, 2);
  });

  test("renders {task} and {step} into the prompt", () => {
    const p = prmPrompt("T={task} S={step}", "fix bug", makeTurn(1, { observationText: "o", actionText: "a" }));
    assert.equal(p, "T=fix bug S=Observation:\no\n\nAction:\na");
  });

  test("scores every turn with the judge and records the judge model", async () => {
    const config = prmConfig({ baseUrl: judge.baseUrl, requestDeadlineMs: 2_000 });
    const t = makeTrajectory({
      metadata: { problem_statement: "the task" },
      turns: [
        makeTurn(2, { actionText: "score-me:0.5" }),
        makeTurn(2, { actionText: "score-me:-1" }),
        makeTurn(2, { actionText: "prose" }),
      ],
    });
    const external = await judgedChannels(t, config, new PrmJudge(config.prm));
    const scored = scoreTrajectory(t, config, buildChannels(config), Date.now, external);
    const prm = scored.channels.find((c) => c.name === PRM_CHANNEL);
    assert.deepEqual(prm?.perTurn, [0.5, -1, 0]);
    assert.equal(prm?.producerVersion, "prm-judge");
    assert.equal(prm?.gatePassed, true);
    assert.equal(scored.reward, 1 + 0.5 - 1);
  });

  test("a judge that is down gives the default score, gate closed, and the trajectory still scores", async () => {
    const config = rewardSchema.parse({
      prm: {
        enabled: true,
        judge: { baseUrl: "http://127.0.0.1:9", retries: 0, requestDeadlineMs: 500, batchDeadlineMs: 2_000 },
        parser: { defaultScore: 0.25 },
      },
    });
    const t = makeTrajectory();
    const judgeClient = new PrmJudge(config.prm);
    const scores = await judgeClient.score(t);
    assert.equal(scores.failed, 2);
    const external = await judgedChannels(t, config, judgeClient);
    const scored = scoreTrajectory(t, config, buildChannels(config), Date.now, external);
    const prm = scored.channels.find((c) => c.name === PRM_CHANNEL);
    assert.deepEqual(prm?.perTurn, [0.25, 0.25]);
    assert.equal(prm?.gatePassed, false);
    assert.equal(scored.reward, 1);
  });

  test("a slow judge past the batch deadline gives defaults", async () => {
    const slow = await startLocalJudge({ delayMs: 2_000, answer: () => "Score: 1" });
    try {
      const config = prmConfig({ baseUrl: slow.baseUrl, retries: 0, batchDeadlineMs: 300 });
      const started = Date.now();
      const scores = await new PrmJudge(config.prm).score(makeTrajectory());
      assert.ok(Date.now() - started < 1_500);
      assert.deepEqual(scores.perTurn, [0, 0]);
      assert.equal(scores.failed, 2);
    } finally {
      await slow.close();
    }
  });
});
