import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvironmentConfigError } from "../errors.js";
import {
  RECALL_NEXT,
  RECALL_SYSTEM_PROMPT,
  RecallEnvironment,
  RecallTaskSource,
  parseRecallConfig,
  recallCode,
  recallEnvironment,
  recallLabel,
} from "./recall.js";
import { playEnvironment } from "../testing/play-environment.js";

const play = (code: string, answers: Array<string | null>, open = false) =>
  playEnvironment(new RecallEnvironment("ab", code, open, parseRecallConfig({ turns: code.length })), answers);

void describe("recall episodes", () => {
  void it("shows only the label: nothing in the prompt gives the code away", async () => {
    const { reset, shown } = await play("471", ["4", "7", "1"]);
    assert.deepEqual(reset.messages, [
      { role: "system", content: RECALL_SYSTEM_PROMPT },
      { role: "user", content: "ab" },
    ]);
    assert.deepEqual(shown, [RECALL_NEXT, RECALL_NEXT]);
  });

  void it("an open-book prompt shows the code in the words the feedback on a failure uses", async () => {
    const { reset } = await play("471", ["4", "7", "1"], true);
    assert.deepEqual(reset.messages[1], { role: "user", content: "ab\nexpected 471" });
    const failed = await play("471", ["1", "1", "1"]);
    assert.ok(failed.outcome.detail.endsWith(", expected 471"));
  });

  void it("resolves when every digit is right and says what was expected otherwise", async () => {
    const right = await play("471", ["4", "7", "1"]);
    assert.equal(right.done, true);
    assert.equal(right.outcome.level, "RESOLVED");
    assert.equal(right.outcome.score, 1);
    assert.deepEqual(right.outcome.perTurnScores, [1 / 3, 1 / 3, 1 / 3]);

    const wrong = await play("471", ["4", "x", "2"]);
    assert.equal(wrong.outcome.level, "TESTS_FAIL");
    // 1 right, a non-digit (0), a wrong digit (format credit 0.1).
    assert.ok(Math.abs(wrong.outcome.score - 1.1 / 3) < 1e-12);
    assert.equal(wrong.outcome.detail, "got 4x2, expected 471");
    assert.equal(wrong.outcome.modified, true);
  });

  void it("an unfinished episode is NO_SUBMIT; an empty answer shows as _", async () => {
    const { outcome, done } = await play("471", ["", null]);
    assert.equal(done, false);
    assert.equal(outcome.level, "NO_SUBMIT");
    assert.equal(outcome.submitted, false);
    assert.equal(outcome.detail, "got __, expected 471");
  });

  void it("refuses steps before reset and after the last turn", async () => {
    const env = new RecallEnvironment("ab", "4", false, parseRecallConfig({ turns: 1 }));
    await assert.rejects(env.step({ content: "4", toolCalls: [] }), /before reset/);
    await env.reset();
    await env.step({ content: "4", toolCalls: [] });
    await assert.rejects(env.step({ content: "4", toolCalls: [] }), /after the episode is done/);
  });
});

void describe("recall tasks", () => {
  void it("draws labels from the configured set, each with a code fixed by the seed", () => {
    const config = parseRecallConfig({ tasks: 4, turns: 5 });
    const source = new RecallTaskSource(9, config);
    const labels = new Set<string>();
    let open = 0;
    for (let i = 0; i < 200; i++) {
      const t = source.at(i);
      const p = t.payload as { label: string; code: string; open: boolean };
      labels.add(p.label);
      open += p.open ? 1 : 0;
      const k = ["aa", "ab", "ac", "ad"].indexOf(p.label);
      assert.ok(k >= 0, `label ${p.label} outside the 4 configured`);
      assert.equal(p.code, recallCode(9, k, 5));
      assert.match(p.code, /^[0-9]{5}$/);
    }
    assert.equal(labels.size, 4);
    assert.ok(open > 70 && open < 130, `about half the tasks open-book by default (${open} of 200)`);
    const closed = new RecallTaskSource(9, parseRecallConfig({ open_book: 0 }));
    assert.equal((closed.at(3).payload as { open: boolean }).open, false);
    assert.deepEqual(source.at(17), new RecallTaskSource(9, config).at(17), "tasks are a function of seed and index");
    assert.notEqual(recallCode(9, 0, 8), recallCode(10, 0, 8), "another seed, other codes");
    assert.equal(recallLabel(27), "bb");
  });

  void it("binds through the environment definition and rejects malformed tasks and configs", async () => {
    const bound = recallEnvironment.bind({ turns: 2 }, 1);
    const env = bound.create(bound.taskSource.next());
    await env.reset();
    assert.throws(
      () => bound.create({ id: "t", payload: { label: "AB", code: "12", open: false } }),
      /t: payload.label/,
    );
    assert.throws(
      () => bound.create({ id: "t", payload: { label: "ab", code: "123", open: false } }),
      /t: payload.code must be 2 digits/,
    );
    assert.throws(() => bound.create({ id: "t", payload: { label: "ab", code: "12" } }), /t: payload.open/);
    assert.throws(() => parseRecallConfig({ tasks: 0 }), EnvironmentConfigError);
    assert.throws(() => parseRecallConfig({ turns: 3, colour: "red" }), EnvironmentConfigError);
  });
});
