import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mulberry32 } from "@sluice/common";
import {
  DIGITS_SYSTEM_PROMPT,
  DigitsEnvironment,
  DigitsTaskSource,
  digitsEnvironment,
  parseDigitsConfig,
  scoreDigitAnswer,
} from "./digits.js";
import { EnvironmentConfigError } from "../errors.js";
import { playEnvironment } from "../testing/play-environment.js";

void describe("scoreDigitAnswer", () => {
  const cases: Array<[string | null, number, number]> = [
    ["5", 5, 1],
    ["  5", 5, 1],
    ["\n5 and more", 5, 1],
    ["56", 5, 1],
    ["4", 5, 0.1],
    ["0", 5, 0.1],
    ["x5", 5, 0],
    ["", 5, 0],
    ["   ", 5, 0],
    [null, 5, 0],
    ["0", 0, 1],
    ["five", 5, 0],
  ];
  for (const [content, expected, credit] of cases) {
    void it(`scores ${JSON.stringify(content)} against ${expected} as ${credit}`, () => {
      assert.equal(scoreDigitAnswer(content, expected, 0.1), credit);
    });
  }
});

const play = (start: number, answers: Array<string | null>, raw: unknown = {}) =>
  playEnvironment(new DigitsEnvironment(start, parseDigitsConfig(raw)), answers);

void describe("digits episodes", () => {
  const cases: Array<{
    name: string;
    start: number;
    answers: Array<string | null>;
    config?: Record<string, unknown>;
    level: string;
    score: number;
    done: boolean;
    modified: boolean;
    submitted: boolean;
  }> = [
    {
      name: "all correct is RESOLVED",
      start: 3,
      answers: ["4", "5", "6"],
      level: "RESOLVED",
      score: 1,
      done: true,
      modified: true,
      submitted: true,
    },
    {
      name: "wraps 9 to 0",
      start: 8,
      answers: ["9", "0", "1"],
      level: "RESOLVED",
      score: 1,
      done: true,
      modified: true,
      submitted: true,
    },
    {
      name: "one wrong digit gets format credit",
      start: 0,
      answers: ["1", "7", "3"],
      level: "TESTS_FAIL",
      score: 2.1 / 3,
      done: true,
      modified: true,
      submitted: true,
    },
    {
      name: "non-digits score zero and modify nothing",
      start: 0,
      answers: ["a", "", null],
      level: "TESTS_FAIL",
      score: 0,
      done: true,
      modified: false,
      submitted: true,
    },
    {
      name: "a mistake does not cascade",
      start: 1,
      answers: ["9", "3", "4"],
      level: "TESTS_FAIL",
      score: 2.1 / 3,
      done: true,
      modified: true,
      submitted: true,
    },
    {
      name: "unfinished episode is NO_SUBMIT",
      start: 5,
      answers: ["6"],
      level: "NO_SUBMIT",
      score: 1 / 3,
      done: false,
      modified: true,
      submitted: false,
    },
    {
      name: "turns=1 finishes after one answer",
      start: 9,
      answers: ["0"],
      config: { turns: 1 },
      level: "RESOLVED",
      score: 1,
      done: true,
      modified: true,
      submitted: true,
    },
    {
      name: "format_credit is configurable",
      start: 2,
      answers: ["9", "9"],
      config: { turns: 2, format_credit: 0.5 },
      level: "TESTS_FAIL",
      score: 0.5,
      done: true,
      modified: true,
      submitted: true,
    },
  ];
  for (const c of cases) {
    void it(c.name, async () => {
      const { outcome, done } = await play(c.start, c.answers, c.config);
      assert.equal(outcome.level, c.level);
      assert.ok(Math.abs(outcome.score - c.score) < 1e-9, `score ${outcome.score} != ${c.score}`);
      assert.equal(done, c.done);
      assert.equal(outcome.modified, c.modified);
      assert.equal(outcome.submitted, c.submitted);
      assert.equal(outcome.perTurnScores?.length, c.answers.length);
    });
  }

  void it("shows the system prompt and the start digit, then the correct digits", async () => {
    const { reset, shown } = await play(7, ["1", "1", "1"]);
    assert.deepEqual(reset.messages, [
      { role: "system", content: DIGITS_SYSTEM_PROMPT },
      { role: "user", content: "7" },
    ]);
    assert.deepEqual(shown, ["8", "9"]);
  });

  void it("rejects steps after the episode is done and before reset", async () => {
    const { env } = await play(0, ["1", "2", "3"]);
    await assert.rejects(env.step({ content: "4", toolCalls: [] }), /after the episode is done/);
    const fresh = new DigitsEnvironment(0, parseDigitsConfig({}));
    await assert.rejects(fresh.step({ content: "1", toolCalls: [] }), /before reset/);
  });

  void it("rejects tasks whose payload is not a digit", () => {
    assert.throws(
      () => DigitsEnvironment.fromTask({ id: "t", payload: { start: 12 } }, parseDigitsConfig({})),
      /payload.start/,
    );
    assert.throws(() => DigitsEnvironment.fromTask({ id: "t", payload: null }, parseDigitsConfig({})), /payload.start/);
  });

  void it("a uniformly random policy over the tiny vocabulary scores about 0.02", async () => {
    // The engine's char-level vocabulary: 98 characters plus 9 special / tool tokens.
    const chars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n\t:,.!?-+=()[]{}\"'/_;<>*#%&@|~`^$\\";
    const vocab = [...Array.from(chars), ...Array.from({ length: 9 }, () => "<|special|>")];
    const rand = mulberry32(42);
    let total = 0;
    const episodes = 3000;
    for (let e = 0; e < episodes; e++) {
      const answers = Array.from({ length: 3 }, () =>
        Array.from({ length: 4 }, () => vocab[Math.floor(rand() * vocab.length)] ?? "").join(""),
      );
      total += (await play(e % 10, answers)).outcome.score;
    }
    const mean = total / episodes;
    assert.ok(mean > 0.01 && mean < 0.04, `random policy mean score ${mean}`);
  });
});

void describe("digits task source", () => {
  void it("is deterministic in the seed and differs across seeds", () => {
    const a = new DigitsTaskSource(7);
    const b = new DigitsTaskSource(7);
    const seqA = Array.from({ length: 50 }, () => a.next());
    assert.deepEqual(
      seqA,
      Array.from({ length: 50 }, () => b.next()),
    );
    assert.deepEqual(new DigitsTaskSource(7).at(13), seqA[13]);
    const other = Array.from({ length: 50 }, (_, i) => new DigitsTaskSource(8).at(i).payload);
    assert.notDeepEqual(
      other,
      seqA.map((t) => t.payload),
    );
  });

  void it("covers every start digit and names tasks uniquely", () => {
    const src = new DigitsTaskSource(0);
    const tasks = Array.from({ length: 200 }, () => src.next());
    const starts = new Set(tasks.map((t) => (t.payload as { start: number }).start));
    assert.deepEqual([...starts].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(new Set(tasks.map((t) => t.id)).size, tasks.length);
  });
});

void describe("digits config", () => {
  void it("defaults to 3 turns and 0.1 format credit", () => {
    assert.deepEqual(parseDigitsConfig({}), { turns: 3, format_credit: 0.1 });
    assert.deepEqual(parseDigitsConfig(undefined), { turns: 3, format_credit: 0.1 });
  });
  const bad: Array<[unknown, RegExp]> = [
    [{ turns: 0 }, /environment\.config\.turns/],
    [{ turns: 2.5 }, /environment\.config\.turns/],
    [{ format_credit: 2 }, /environment\.config\.format_credit/],
    [{ format_credit: "x" }, /environment\.config\.format_credit/],
    [{ turn: 3 }, /environment\.config\.turn: unknown field/],
  ];
  for (const [raw, pattern] of bad) {
    void it(`rejects ${JSON.stringify(raw)} naming the field`, () => {
      assert.throws(
        () => digitsEnvironment.bind(raw, 0),
        (err: unknown) => {
          assert.ok(err instanceof EnvironmentConfigError);
          assert.match(err.message, pattern);
          return true;
        },
      );
    });
  }
});
