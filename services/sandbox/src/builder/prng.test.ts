import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { seededShuffle, shortHash } from "./prng.js";

void describe("seeded order", () => {
  void test("the same seed gives the same order, another seed another", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    assert.deepEqual(seededShuffle(items, "s"), seededShuffle(items, "s"));
    assert.notDeepEqual(seededShuffle(items, "s"), seededShuffle(items, "t"));
    assert.deepEqual(
      [...seededShuffle(items, "s")].sort((a, b) => a - b),
      items,
    );
    assert.equal(shortHash("x"), shortHash("x"));
    assert.equal(shortHash("x").length, 8);
  });
});
