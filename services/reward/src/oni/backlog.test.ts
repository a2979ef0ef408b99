import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AnnotationBacklog } from "./backlog.js";

function backlog(order: "lifo" | "fifo", cap = 100, labelled: Set<string> = new Set()): AnnotationBacklog {
  return new AnnotationBacklog({ cap, order, isLabelled: (k) => labelled.has(k), now: () => 0 });
}

const keys = (items: { key: string }[]): string[] => items.map((i) => i.key);

void describe("ONI annotation backlog", () => {
  test("a key is enqueued once while queued or in flight", () => {
    const b = backlog("lifo");
    assert.equal(b.enqueue("a", "A"), "queued");
    assert.equal(b.enqueue("a", "A"), "pending");
    b.take(1);
    assert.equal(b.enqueue("a", "A"), "pending");
    assert.equal(b.depth, 0);
  });

  test("an already labelled key is not enqueued", () => {
    const b = backlog("lifo", 10, new Set(["x"]));
    assert.equal(b.enqueue("x", "X"), "labelled");
    assert.equal(b.depth, 0);
  });

  test("LIFO hands out the newest items first", () => {
    const b = backlog("lifo");
    for (const k of ["a", "b", "c", "d"]) b.enqueue(k, k);
    assert.deepEqual(keys(b.take(2)), ["d", "c"]);
    assert.deepEqual(keys(b.take(5)), ["b", "a"]);
  });

  test("FIFO hands out the oldest items first", () => {
    const b = backlog("fifo");
    for (const k of ["a", "b", "c", "d"]) b.enqueue(k, k);
    assert.deepEqual(keys(b.take(3)), ["a", "b", "c"]);
  });

  test("over the cap the oldest item is dropped, counted, and can come back", () => {
    const b = backlog("fifo", 3);
    for (const k of ["a", "b", "c", "d", "e"]) b.enqueue(k, k);
    assert.equal(b.depth, 3);
    assert.equal(b.dropped, 2);
    assert.deepEqual(keys(b.take(3)), ["c", "d", "e"]);
    assert.equal(b.enqueue("a", "a"), "queued");
  });

  test("a failed batch returns to its original positions and stays deduplicated", () => {
    const b = backlog("lifo");
    for (const k of ["a", "b", "c", "d"]) b.enqueue(k, k);
    const batch = b.take(2); // d, c
    b.enqueue("e", "e");
    b.requeue(keys(batch));
    assert.equal(b.inFlightCount, 0);
    assert.equal(b.enqueue("c", "c"), "pending");
    assert.deepEqual(keys(b.take(5)), ["e", "d", "c", "b", "a"]);
  });

  test("complete ends the pending state", () => {
    const labelled = new Set<string>();
    const b = backlog("lifo", 10, labelled);
    b.enqueue("a", "A");
    b.take(1);
    labelled.add("a");
    b.complete(["a"]);
    assert.equal(b.inFlightCount, 0);
    assert.equal(b.enqueue("a", "A"), "labelled");
  });
});
