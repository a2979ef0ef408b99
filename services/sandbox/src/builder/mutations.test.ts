import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { applyMutation, enumerateMutations, removeText, type MutationKind, type MutationRef } from "./mutations.js";

const SOURCE = `'use strict';

var limit = 10;

function clamp(a, b) {
\tif (a === b) {
\t\treturn a;
\t}
\tif (a < b) { return b - a; } else { return a - b; }
}

module.exports = function (list, opts) {
\tvar out = [];
\tvar i = 0;
\tif (!opts) {
\t\topts = {};
\t}
\tfor (; i < list.length && i <= limit; i++) {
\t\tout.push(list[i] > 0 ? clamp(list[i], 1) : 'x' + list[i]);
\t}
\tout.done = true;
\treturn out;
};
`;

function mutants(kind: MutationKind, code = SOURCE): Array<{ ref: MutationRef; text: string | null }> {
  return enumerateMutations("lib/x.js", code)
    .filter((r) => r.kind === kind)
    .map((ref) => ({ ref, text: applyMutation(code, ref) }));
}

/** Lines that differ between the original and a mutant (same line count assumed). */
function changedLines(before: string, after: string): number[] {
  const a = before.split("\n");
  const b = after.split("\n");
  assert.equal(a.length, b.length, "a one-site operator change keeps the line count");
  return a.flatMap((l, i) => (l === b[i] ? [] : [i + 1]));
}

function find(kind: MutationKind, detail: string, line: number): string {
  const m = mutants(kind).find((x) => x.ref.detail === detail && x.ref.line === line);
  assert.ok(m, `no ${kind} "${detail}" at line ${line}`);
  assert.ok(m.text !== null, "mutation must reprint");
  return m.text;
}

void describe("mutation operators", () => {
  void test("flip_operator changes only the operator at its site", () => {
    const out = find("flip_operator", "=== -> !==", 6);
    assert.deepEqual(changedLines(SOURCE, out), [6]);
    assert.match(out, /\tif \(a !== b\) \{/);
    const lt = find("flip_operator", "< -> >=", 9);
    assert.match(lt, /if \(a >= b\) \{ return b - a; \}/);
    const and = find("flip_operator", "&& -> ||", 18);
    assert.match(and, /i < list\.length \|\| i <= limit/);
    const le = find("flip_operator", "<= -> >", 18);
    assert.deepEqual(changedLines(SOURCE, le), [18]);
  });

  void test("flip_operator leaves string concatenation alone", () => {
    const details = mutants("flip_operator").map((m) => `${m.ref.line}:${m.ref.detail}`);
    assert.ok(!details.includes("19:+ -> -"), "'x' + y is not flipped to NaN-producing -");
    assert.ok(details.includes("9:- -> +"));
  });

  void test("swap_operands swaps non-commutative operands, including string concatenation", () => {
    const minus = mutants("swap_operands").find((m) => m.ref.line === 9 && m.ref.detail === "swap operands of -");
    assert.ok(minus?.text);
    assert.match(minus.text, /return a - b; \} else \{ return a - b; \}|return b - a; \} else \{ return b - a; \}/);
    const concat = mutants("swap_operands").find((m) => m.ref.line === 19 && m.ref.detail === "swap operands of +");
    assert.ok(concat?.text);
    assert.match(concat.text, /list\[i\] \+ 'x'/);
    assert.ok(!mutants("swap_operands").some((m) => m.ref.detail === "swap operands of ==="), "=== is commutative");
  });

  void test("change_constant moves numbers by one and flips booleans", () => {
    assert.match(find("change_constant", "10 -> 11", 3), /var limit = 11;/);
    assert.match(find("change_constant", "10 -> 9", 3), /var limit = 9;/);
    assert.match(find("change_constant", "0 -> 1", 14), /var i = 1;/);
    assert.ok(!mutants("change_constant").some((m) => m.ref.detail === "0 -> -1"), "0 has no n-1 variant");
    const t = find("change_constant", "true -> false", 21);
    assert.deepEqual(changedLines(SOURCE, t), [21]);
  });

  void test("remove_conditional deletes an if without else and nothing else", () => {
    const out = find("remove_conditional", "remove if", 15);
    assert.equal(out, SOURCE.replace("\tif (!opts) {\n\t\topts = {};\n\t}\n", ""));
    assert.ok(!mutants("remove_conditional").some((m) => m.ref.line === 9), "if/else is not removed");
  });

  void test("remove_assignment deletes an assignment statement inside a function, keeping indentation", () => {
    const out = find("remove_assignment", "remove assignment", 21);
    assert.equal(out, SOURCE.replace("\tout.done = true;\n", ""));
    const nested = find("remove_assignment", "remove assignment", 16);
    assert.equal(nested, SOURCE.replace("\t\topts = {};\n", ""));
    assert.ok(!mutants("remove_assignment").some((m) => m.ref.line === 12), "module.exports wiring is never removed");
  });

  void test("invert_branch swaps block branches, ?: branches, and negates a lone if", () => {
    const swapped = find("invert_branch", "swap if/else branches", 9);
    assert.match(swapped, /if \(a < b\) \{ return a - b; \} else \{ return b - a; \}/);
    const ternary = find("invert_branch", "swap ?: branches", 19);
    assert.match(ternary, /list\[i\] > 0 \? 'x' \+ list\[i\] : clamp\(list\[i\], 1\)/);
    const negated = find("invert_branch", "negate if condition", 6);
    assert.match(negated, /if \(!\(a === b\)\) \{/);
    const unnegated = find("invert_branch", "negate if condition", 15);
    assert.match(unnegated, /\tif \(opts\) \{/);
  });

  void test("every enumerated site of a realistic file reprints faithfully and is deterministic", () => {
    const a = enumerateMutations("lib/x.js", SOURCE);
    const b = enumerateMutations("lib/x.js", SOURCE);
    assert.deepEqual(a, b);
    for (const ref of a) {
      const out = applyMutation(SOURCE, ref);
      assert.ok(out !== null && out !== SOURCE, `${ref.kind} ${ref.detail} at ${ref.line}`);
    }
  });

  void test("adds parentheses when a flipped operator would otherwise rebind", () => {
    const code = "function f(a, b, c) {\n  return a || b && c;\n}\n";
    const inner = mutants("flip_operator", code).find((m) => m.ref.detail === "&& -> ||");
    assert.ok(inner?.text);
    const outer = mutants("flip_operator", code).find((m) => m.ref.detail === "|| -> &&");
    assert.ok(outer?.text);
    assert.match(outer.text, /a && b && c|a && \(b && c\)/);
  });

  void test("a stale mutation reference is an error, not a silent different bug", () => {
    const ref = enumerateMutations("lib/x.js", SOURCE)[0] as MutationRef;
    assert.throws(() => applyMutation("var x = 1;\n", { ...ref, ordinal: 99 }), /not found/);
  });
});

void describe("removeText", () => {
  void test("takes the whole line when the range is alone on it", () => {
    assert.equal(removeText("a\n  b;\nc\n", 4, 6), "a\nc\n");
  });
  void test("keeps the line when other code shares it", () => {
    assert.equal(removeText("if (x) { y = 1; }\n", 9, 15), "if (x) {  }\n");
  });
});
