import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RANKING_LABELS, createAnswerParser } from "./answer-parser.js";
import { oniSchema } from "./config.js";
import { OniConfigError } from "./errors.js";

const defaults = oniSchema.parse({}).parser;

void describe("ONI answer parsers", () => {
  test("default pattern reads the digit after 'Answer:'", () => {
    const parse = createAnswerParser(defaults);
    assert.deepEqual(parse("The step helps.\nAnswer: 1"), { label: 1, parsed: true });
    assert.deepEqual(parse("Answer: 0"), { label: 0, parsed: true });
  });

  test("the last match counts by default, the first on request", () => {
    assert.equal(createAnswerParser(defaults)("Answer: 0 ... on reflection Answer: 1").label, 1);
    assert.equal(createAnswerParser({ ...defaults, match: "first" })("Answer: 0 ... Answer: 1").label, 0);
  });

  test("an unparseable answer maps to the default label and is marked", () => {
    const parse = createAnswerParser({ ...defaults, defaultLabel: 0 });
    assert.deepEqual(parse("I cannot decide."), { label: 0, parsed: false });
  });

  test("ranking answers map FIRST → 0, SECOND → 1, TIE → 0.5", () => {
    const parse = createAnswerParser({
      ...defaults,
      pattern: "\\b(FIRST|SECOND|TIE)\\b",
      labels: { ...RANKING_LABELS },
      defaultLabel: 0.5,
    });
    assert.deepEqual(parse("Answer: FIRST"), { label: 0, parsed: true });
    assert.deepEqual(parse("Answer: SECOND"), { label: 1, parsed: true });
    assert.deepEqual(parse("Answer: TIE"), { label: 0.5, parsed: true });
    assert.deepEqual(parse("Answer: BOTH"), { label: 0.5, parsed: false });
  });

  test("case-insensitive flag with a label map upper-cases the capture", () => {
    const parse = createAnswerParser({
      ...defaults,
      pattern: "(first|second)",
      flags: "i",
      labels: { ...RANKING_LABELS },
    });
    assert.deepEqual(parse("second"), { label: 1, parsed: true });
  });

  test("a pattern that does not compile is a typed config error", () => {
    assert.throws(() => createAnswerParser({ ...defaults, pattern: "(" }), OniConfigError);
  });
});
