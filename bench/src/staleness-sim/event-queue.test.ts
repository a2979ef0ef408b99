import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventQueue } from "./event-queue.js";

void describe("EventQueue", () => {
  void it("pops events by time, and events at the same time in insertion order", () => {
    const q = new EventQueue<string>();
    q.schedule(5, "e");
    q.schedule(1, "a");
    q.schedule(3, "c1");
    q.schedule(3, "c2");
    q.schedule(0, "zero");
    q.schedule(3, "c3");
    q.schedule(1, "b");
    const order: string[] = [];
    for (let ev = q.pop(); ev; ev = q.pop()) order.push(ev.payload);
    assert.deepEqual(order, ["zero", "a", "b", "c1", "c2", "c3", "e"]);
  });

  void it("keeps insertion order among many simultaneous events", () => {
    const q = new EventQueue<number>();
    for (let i = 0; i < 200; i++) q.schedule(i % 2 === 0 ? 7 : 2, i);
    const out: number[] = [];
    for (let ev = q.pop(); ev; ev = q.pop()) out.push(ev.payload);
    const odd = Array.from({ length: 100 }, (_, k) => 2 * k + 1);
    const even = Array.from({ length: 100 }, (_, k) => 2 * k);
    assert.deepEqual(out, [...odd, ...even]);
  });

  void it("advances the fake clock to each popped event and schedules relative to it", () => {
    const q = new EventQueue<string>();
    assert.equal(q.now, 0);
    q.schedule(10, "first");
    assert.equal(q.pop()?.at, 10);
    assert.equal(q.now, 10);
    q.after(2.5, "later");
    q.after(0, "now");
    assert.deepEqual(q.pop(), { at: 10, payload: "now" });
    assert.deepEqual(q.pop(), { at: 12.5, payload: "later" });
    assert.equal(q.pop(), undefined);
    assert.equal(q.now, 12.5);
  });

  void it("refuses to schedule into the past", () => {
    const q = new EventQueue<string>();
    q.schedule(4, "x");
    q.pop();
    assert.throws(() => q.schedule(3, "y"), RangeError);
    assert.throws(() => q.schedule(Number.NaN, "z"), RangeError);
  });
});
