import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sleep, waitFor, withDeadline } from "./deadline.js";
import { DeadlineError } from "./errors.js";

void describe("deadlines", () => {
  void it("withDeadline resolves with the promise's value when it is in time", async () => {
    assert.equal(await withDeadline(Promise.resolve(42), 1_000, "answer"), 42);
  });

  void it("withDeadline rejects with a retryable DeadlineError naming the wait", async () => {
    const never = new Promise<never>(() => undefined);
    await assert.rejects(withDeadline(never, 20, "engine handshake"), (e: unknown) => {
      return (
        e instanceof DeadlineError && e.retryable && /engine handshake did not finish within 20 ms/.test(e.message)
      );
    });
  });

  void it("withDeadline passes the promise's own rejection through", async () => {
    await assert.rejects(withDeadline(Promise.reject(new Error("boom")), 1_000, "x"), /boom/);
  });

  void it("sleep ends early when its signal aborts", async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 10);
    await sleep(5_000, abort.signal);
    assert.ok(Date.now() - started < 1_000);
  });

  void it("waitFor returns the first defined value", async () => {
    let n = 0;
    const v = await waitFor(() => (++n >= 3 ? n : undefined), 1_000, "third poll", 1);
    assert.equal(v, 3);
  });

  void it("waitFor treats falsy values other than undefined as results", async () => {
    assert.equal(await waitFor(() => 0, 100, "zero"), 0);
    assert.equal(await waitFor(() => false, 100, "false"), false);
  });

  void it("waitFor fails with DeadlineError after its timeout", async () => {
    await assert.rejects(
      waitFor(() => undefined, 30, "nothing", 5),
      DeadlineError,
    );
  });
});
