import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { elideMiddle, elisionNote, formatObservation } from "./observation.js";

void describe("tool observations", () => {
  void test("wraps output with its return code", () => {
    assert.equal(formatObservation(0, "hi\n"), "<returncode>0</returncode><output>hi\n</output>");
    assert.equal(formatObservation(127, ""), "<returncode>127</returncode><output></output>");
  });

  void test("leaves output within the limit untouched", () => {
    assert.deepEqual(elideMiddle("short", 5), { text: "short", truncated: false, elidedBytes: 0 });
  });

  void test("keeps head and tail of long output and says how much was elided", () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
    const text = lines.join("\n") + "\n";
    const res = elideMiddle(text, 200);
    assert.equal(res.truncated, true);
    const parts = res.text.split(/^\[\.\.\. .*\.\.\.\]\n/m);
    assert.equal(parts.length, 2, res.text);
    const [head = "", tail = ""] = parts;
    // Cut at line boundaries: both halves are runs of whole lines from the two ends.
    assert.ok(text.startsWith(head) && head.endsWith("\n") && head.length > 50, head);
    assert.ok(text.endsWith(tail) && tail.startsWith("line ") && tail.length > 50, tail);
    assert.ok(Buffer.byteLength(head + tail) <= 200);
    assert.equal(res.elidedBytes, Buffer.byteLength(text) - Buffer.byteLength(head + tail));
    const keptLines = (head + tail).split("\n").length - 1;
    assert.ok(res.text.includes(elisionNote(res.elidedBytes, 1000 - keptLines)), res.text);
  });

  void test("never splits a multi-byte character", () => {
    const text = "é".repeat(1000); // 2 bytes each, no newlines
    const res = elideMiddle(text, 101);
    assert.equal(res.truncated, true);
    assert.ok(!res.text.includes("\uFFFD"));
    const kept = res.text.replace(/\n\[\.\.\.[^\]]*\]\n/, "");
    assert.match(kept, /^é+$/);
    assert.equal(Buffer.byteLength(kept) + res.elidedBytes, 2000);
  });

  void test("counts bytes an upstream cap already dropped", () => {
    const res = elideMiddle("x".repeat(100), 10, { alreadyElidedBytes: 5000 });
    assert.equal(res.elidedBytes, 5090);
    assert.match(res.text, /5090 bytes \(at least 0 lines\)/);
    assert.equal(elideMiddle("ok", 10, { alreadyElidedBytes: 7 }).truncated, true);
  });

  void test("rejects a non-positive limit", () => {
    assert.throws(() => elideMiddle("x", 0), RangeError);
  });
});
