import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mulberry32 } from "@sluice/common";
import { EnvironmentConfigError } from "../errors.js";
import {
  FARM_INVALID_REPLY,
  FARM_STEP_REPLY,
  FARM_SYSTEM_PROMPT,
  FarmEnvironment,
  FarmTaskSource,
  classifyFarmAnswer,
  farmEnvironment,
  parseFarmConfig,
} from "./farm.js";
import { playEnvironment } from "../testing/play-environment.js";

const play = (target: number, answers: Array<string | null>, raw: unknown = {}) =>
  playEnvironment(new FarmEnvironment(target, parseFarmConfig(raw)), answers);

void describe("classifyFarmAnswer", () => {
  const cases: Array<[string | null, string]> = [
    ["a", "step"],
    ["  z", "step"],
    ["q7", "step"],
    ["7", "submit"],
    ["\n0x", "submit"],
    ["A", "invalid"],
    ["!", "invalid"],
    ["", "invalid"],
    [null, "invalid"],
  ];
  for (const [content, kind] of cases) {
    void it(`reads ${JSON.stringify(content)} as ${kind}`, () => assert.equal(classifyFarmAnswer(content), kind));
  }
});

void describe("farm episodes", () => {
  const cases: Array<{
    name: string;
    target: number;
    answers: Array<string | null>;
    config?: Record<string, unknown>;
    level: string;
    score: number;
    perTurn: number[];
    done: boolean;
    submitted: boolean;
    modified: boolean;
    doneReason: string;
  }> = [
    {
      name: "steps then the right digit is RESOLVED",
      target: 4,
      answers: ["a", "b", "4"],
      level: "RESOLVED",
      score: 1,
      perTurn: [0.5, 0.5, 0],
      done: true,
      submitted: true,
      modified: true,
      doneReason: "submitted",
    },
    {
      name: "a wrong digit after a step is TESTS_FAIL",
      target: 4,
      answers: ["a", "5"],
      level: "TESTS_FAIL",
      score: 0,
      perTurn: [0.5, 0],
      done: true,
      submitted: true,
      modified: true,
      doneReason: "submitted",
    },
    {
      name: "a submit before any valid step is EMPTY_PATCH, even with the right digit",
      target: 4,
      answers: ["!", "4"],
      level: "EMPTY_PATCH",
      score: 0,
      perTurn: [0, 0],
      done: true,
      submitted: true,
      modified: false,
      doneReason: "submitted",
    },
    {
      name: "farming the whole budget is NO_SUBMIT with every step scored",
      target: 1,
      answers: ["a", "b", "c", "d", "e", "f"],
      level: "NO_SUBMIT",
      score: 0,
      perTurn: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
      done: true,
      submitted: false,
      modified: true,
      doneReason: "turn_budget",
    },
    {
      name: "invalid steps score 0 and use up turns",
      target: 1,
      answers: ["A", "a", "?"],
      config: { turns: 3 },
      level: "NO_SUBMIT",
      score: 0,
      perTurn: [0, 0.5, 0],
      done: true,
      submitted: false,
      modified: true,
      doneReason: "turn_budget",
    },
    {
      name: "an episode cut short reports NO_SUBMIT with what it has",
      target: 1,
      answers: ["a"],
      level: "NO_SUBMIT",
      score: 0,
      perTurn: [0.5],
      done: false,
      submitted: false,
      modified: true,
      doneReason: "",
    },
    {
      name: "step_score and min_steps are configurable",
      target: 9,
      answers: ["a", "9"],
      config: { turns: 4, step_score: 0.25, min_steps: 2 },
      level: "EMPTY_PATCH",
      score: 0,
      perTurn: [0.25, 0],
      done: true,
      submitted: true,
      modified: true,
      doneReason: "submitted",
    },
    {
      name: "min_steps 0 lets a first-turn submit resolve",
      target: 0,
      answers: ["0"],
      config: { min_steps: 0 },
      level: "RESOLVED",
      score: 1,
      perTurn: [0],
      done: true,
      submitted: true,
      modified: false,
      doneReason: "submitted",
    },
  ];
  for (const c of cases) {
    void it(c.name, async () => {
      const { outcome, done } = await play(c.target, c.answers, c.config);
      assert.equal(outcome.level, c.level);
      assert.equal(outcome.score, c.score);
      assert.deepEqual(outcome.perTurnScores, c.perTurn);
      assert.equal(done, c.done);
      assert.equal(outcome.submitted, c.submitted);
      assert.equal(outcome.modified, c.modified);
      assert.equal(outcome.doneReason, c.doneReason);
    });
  }

  void it("shows the prompt and the target, then + after a step and ? after an invalid one", async () => {
    const { reset, shown } = await play(7, ["a", "B", "c"]);
    assert.deepEqual(reset.messages, [
      { role: "system", content: FARM_SYSTEM_PROMPT },
      { role: "user", content: "7" },
    ]);
    assert.deepEqual(shown, [FARM_STEP_REPLY, FARM_INVALID_REPLY, FARM_STEP_REPLY]);
  });

  void it("rejects steps after a submit, after the budget and before reset", async () => {
    const { env } = await play(0, ["a", "3"]);
    await assert.rejects(env.step({ content: "a", toolCalls: [] }), /after the episode is done/);
    const { env: farmed } = await play(0, ["a"], { turns: 1, min_steps: 0 });
    await assert.rejects(farmed.step({ content: "a", toolCalls: [] }), /after the episode is done/);
    await assert.rejects(
      new FarmEnvironment(0, parseFarmConfig({})).step({ content: "a", toolCalls: [] }),
      /before reset/,
    );
  });

  void it("reset starts a fresh episode", async () => {
    const { env } = await play(2, ["a", "2"]);
    await env.reset();
    assert.equal(env.outcome().level, "NO_SUBMIT");
    assert.deepEqual(env.outcome().perTurnScores, []);
  });

  void it("rejects tasks whose payload is not a digit", () => {
    assert.throws(() => FarmEnvironment.fromTask({ id: "t", payload: { target: 10 } }, parseFarmConfig({})), /target/);
    assert.throws(() => FarmEnvironment.fromTask({ id: "t", payload: null }, parseFarmConfig({})), /target/);
  });

  void it("a uniformly random policy over the tiny vocabulary submits in about 44% of episodes", async () => {
    // 1 − (1 − 10/107)^6 ≈ 0.443: the engine's char vocabulary (98 characters + 9 specials).
    const chars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n\t:,.!?-+=()[]{}\"'/_;<>*#%&@|~`^$\\";
    const vocab = [...Array.from(chars), ...Array.from({ length: 9 }, () => "<|special|>")];
    const rand = mulberry32(3);
    let submitted = 0;
    const episodes = 3000;
    for (let e = 0; e < episodes; e++) {
      const env = new FarmEnvironment(e % 10, parseFarmConfig({}));
      await env.reset();
      for (let t = 0; t < 6; t++) {
        const r = await env.step({ content: vocab[Math.floor(rand() * vocab.length)] ?? "", toolCalls: [] });
        if (r.done) break;
      }
      if (env.outcome().submitted) submitted++;
    }
    const rate = submitted / episodes;
    assert.ok(rate > 0.38 && rate < 0.5, `random completion rate ${rate}`);
  });
});

void describe("farm task source", () => {
  void it("is deterministic in the seed, differs across seeds and covers every digit", () => {
    const a = Array.from({ length: 100 }, (_, i) => new FarmTaskSource(7).at(i));
    const src = new FarmTaskSource(7);
    assert.deepEqual(
      Array.from({ length: 100 }, () => src.next()),
      a,
    );
    const other = Array.from({ length: 100 }, (_, i) => new FarmTaskSource(8).at(i).payload);
    assert.notDeepEqual(
      other,
      a.map((t) => t.payload),
    );
    assert.deepEqual(
      [...new Set(a.map((t) => (t.payload as { target: number }).target))].sort(),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });
});

void describe("farm config", () => {
  void it("defaults to 6 turns, step score 0.5, one step before a submit", () => {
    assert.deepEqual(parseFarmConfig({}), { turns: 6, step_score: 0.5, min_steps: 1 });
    assert.deepEqual(parseFarmConfig(undefined), { turns: 6, step_score: 0.5, min_steps: 1 });
  });
  const bad: Array<[unknown, RegExp]> = [
    [{ turns: 0 }, /environment\.config\.turns/],
    [{ turns: 1.5 }, /environment\.config\.turns/],
    [{ step_score: -0.1 }, /environment\.config\.step_score/],
    [{ step_score: "x" }, /environment\.config\.step_score/],
    [{ min_steps: 6 }, /environment\.config\.min_steps: min_steps must be below turns/],
    [{ turns: 2, min_steps: 2 }, /environment\.config\.min_steps/],
    [{ steps: 3 }, /environment\.config\.steps: unknown field/],
  ];
  for (const [raw, pattern] of bad) {
    void it(`rejects ${JSON.stringify(raw)} naming the field`, () => {
      assert.throws(
        () => farmEnvironment.bind(raw, 0),
        (err: unknown) => {
          assert.ok(err instanceof EnvironmentConfigError);
          assert.match(err.message, pattern);
          return true;
        },
      );
    });
  }
});
