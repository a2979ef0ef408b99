import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { insertionSpan } from "./token-span.js";

void describe("insertionSpan", () => {
  const cases: { name: string; unguided: number[]; guided: number[]; want?: { start: number; end: number } }[] = [
    {
      name: "insertion in the middle",
      unguided: [1, 2, 3, 9, 9],
      guided: [1, 2, 3, 7, 7, 9, 9],
      want: { start: 3, end: 5 },
    },
    { name: "insertion at the end", unguided: [1, 2], guided: [1, 2, 5], want: { start: 2, end: 3 } },
    { name: "insertion at the start", unguided: [1, 2], guided: [5, 1, 2], want: { start: 0, end: 1 } },
    // Chat templates repeat role tokens: any span whose removal gives the unguided ids will do.
    {
      name: "repeated boundary tokens",
      unguided: [8, 1, 9, 8, 2],
      guided: [8, 1, 9, 8, 3, 9, 8, 2],
      want: { start: 4, end: 7 },
    },
    { name: "not an insertion (a change)", unguided: [1, 2, 3], guided: [1, 4, 3, 5] },
    { name: "no insertion", unguided: [1, 2], guided: [1, 2] },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const span = insertionSpan(c.unguided, c.guided);
      assert.deepEqual(span, c.want);
      if (span) assert.deepEqual([...c.guided.slice(0, span.start), ...c.guided.slice(span.end)], c.unguided);
    });
  }
});
