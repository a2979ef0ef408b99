import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CLIPPED_NOTE,
  catN,
  insertAfter,
  lineOf,
  occurrences,
  replaceUnique,
  selectRange,
  snippet,
  splitLines,
} from "./editor-text.js";

const FILE = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";

void describe("editor text", () => {
  void test("numbers lines like cat -n, without a phantom line after the final newline", () => {
    assert.equal(
      catN("a\n\tb\n", "/workspace/f"),
      "Here's the result of running `cat -n` on /workspace/f:\n     1\ta\n     2\t\tb\n",
    );
    assert.deepEqual(splitLines(""), { lines: [], finalNewline: true });
    assert.deepEqual(splitLines("x"), { lines: ["x"], finalNewline: false });
  });

  void test("clips long content with SWE-agent's note", () => {
    const out = catN("x".repeat(50), "/workspace/f", 1, 10);
    assert.equal(
      out,
      `Here's the result of running \`cat -n\` on /workspace/f:\n     1\t${"x".repeat(10)}${CLIPPED_NOTE}\n`,
    );
    assert.match(CLIPPED_NOTE, /^<response clipped><NOTE>.*grep -n.*<\/NOTE>$/);
  });

  void test("selects a view range and explains a bad one", () => {
    assert.deepEqual(selectRange(FILE, [2, 3]), { ok: true, text: "two\nthree", firstLine: 2 });
    assert.deepEqual(selectRange(FILE, [9, -1]), { ok: true, text: "nine\nten", firstLine: 9 });
    const msg = (r: [number, number]): string => {
      const s = selectRange(FILE, r);
      assert.equal(s.ok, false);
      return s.ok ? "" : s.message;
    };
    assert.equal(
      msg([0, 3]),
      "Invalid `view_range`: [0, 3]. Its first element `0` should be within the range of lines of the file: [1, 10]",
    );
    assert.equal(
      msg([2, 11]),
      "Invalid `view_range`: [2, 11]. Its second element `11` should be smaller than the number of lines in the file: `10`",
    );
    assert.equal(
      msg([5, 3]),
      "Invalid `view_range`: [5, 3]. Its second element `3` should be larger or equal than its first `5`",
    );
  });

  void test("str_replace needs exactly one verbatim occurrence", () => {
    assert.deepEqual(occurrences("aaaa", "aa"), [0, 2]);
    assert.equal(lineOf(FILE, FILE.indexOf("three")), 3);
    const none = replaceUnique(FILE, "eleven", "x", "/workspace/f");
    assert.deepEqual(none, {
      ok: false,
      message: "No replacement was performed, old_str `eleven` did not appear verbatim in /workspace/f.",
    });
    const many = replaceUnique(FILE + "two\n", "two", "2", "/workspace/f");
    assert.deepEqual(many, {
      ok: false,
      message:
        "No replacement was performed. Multiple occurrences of old_str `two` in lines [2, 11]. Please ensure it is unique",
    });
    const same = replaceUnique(FILE, "two", "two", "/workspace/f");
    assert.equal(same.ok, false);
    assert.match(same.ok ? "" : same.message, /is the same as new_str `two`/);
    assert.equal(replaceUnique(FILE, "", "x", "/workspace/f").ok, false);
    const done = replaceUnique(FILE, "three\nfour\n", "3\n", "/workspace/f");
    assert.deepEqual(done, { ok: true, text: FILE.replace("three\nfour\n", "3\n"), firstLine: 3, newLines: 2 });
  });

  void test("shows the edited lines with four lines of context", () => {
    assert.deepEqual(snippet(FILE, 6, 1), {
      text: "two\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten",
      firstLine: 2,
    });
    assert.deepEqual(snippet(FILE, 1, 1), { text: "one\ntwo\nthree\nfour\nfive", firstLine: 1 });
  });

  void test("inserts after a line, keeping the file's final newline as it was", () => {
    assert.deepEqual(insertAfter("a\nb\n", 1, "X"), { ok: true, text: "a\nX\nb\n", newLines: 1 });
    assert.deepEqual(insertAfter("a\nb\n", 0, "X\nY\n"), { ok: true, text: "X\nY\na\nb\n", newLines: 2 });
    assert.deepEqual(insertAfter("a\nb", 2, "X"), { ok: true, text: "a\nb\nX", newLines: 1 });
    assert.deepEqual(insertAfter("", 0, "X"), { ok: true, text: "X\n", newLines: 1 });
    assert.deepEqual(insertAfter("a\nb\n", 3, "X"), {
      ok: false,
      message: "Invalid `insert_line` parameter: 3. It should be within the range of lines of the file: [0, 2]",
    });
  });
});
