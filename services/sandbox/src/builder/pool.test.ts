import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, test } from "node:test";
import { orderedPool, Semaphore } from "./pool.js";

void describe("orderedPool", () => {
  void test("accepts results in item order however they complete, with bounded concurrency", async () => {
    const delays = [30, 5, 20, 1, 10, 2];
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    await orderedPool(
      delays,
      3,
      async (ms, i) => {
        active++;
        peak = Math.max(peak, active);
        await sleep(ms);
        active--;
        return i * 10;
      },
      (r, _ms, i) => {
        assert.equal(r, i * 10);
        seen.push(i);
        return true;
      },
    );
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    assert.equal(peak, 3);
  });

  void test("stops after accept returns false, exactly like a sequential loop", async () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const accepted: number[] = [];
    await orderedPool(
      items,
      4,
      async (i) => {
        await sleep((i * 7) % 5);
        return i;
      },
      (r) => {
        accepted.push(r);
        return accepted.length < 5;
      },
    );
    assert.deepEqual(accepted, [0, 1, 2, 3, 4]);
  });

  void test("an evaluation error fails the pool after in-flight work settles", async () => {
    await assert.rejects(
      orderedPool(
        [1, 2, 3],
        2,
        async (i) => {
          if (i === 2) throw new Error("boom");
          return i;
        },
        () => true,
      ),
      /boom/,
    );
  });
});

void describe("Semaphore", () => {
  void test("never runs more than its limit at once", async () => {
    const s = new Semaphore(2);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        s.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await sleep(5);
          active--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.throws(() => new Semaphore(0), RangeError);
  });
});
