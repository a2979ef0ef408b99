import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionStore, type Session } from "./session-store.js";

const session = (id: string): Session => ({ id, messages: [], tokenIds: [1, 2], toolsJson: "", lastUsedMs: 0 });

describe("SessionStore", () => {
  it("expires sessions idle longer than the TTL", () => {
    let now = 1_000;
    const evicted: string[] = [];
    const store = new SessionStore({
      maxSessions: 10,
      idleTtlMs: 100,
      now: () => now,
      onEvict: (s, r) => evicted.push(`${s.id}:${r}`),
    });
    store.put(session("a"));
    now += 100;
    assert.ok(store.get("a"));
    now += 1;
    assert.equal(store.get("a"), undefined);
    assert.deepEqual(evicted, ["a:idle"]);
    assert.equal(store.size, 0);
  });

  it("evicts the least recently used session beyond capacity", () => {
    let now = 0;
    const evicted: string[] = [];
    const store = new SessionStore({
      maxSessions: 2,
      idleTtlMs: 1e9,
      now: () => now++,
      onEvict: (s) => evicted.push(s.id),
    });
    store.put(session("a"));
    store.put(session("b"));
    store.put(session("a")); // a is now the most recently used
    store.put(session("c"));
    assert.deepEqual(evicted, ["b"]);
    assert.ok(store.get("a"));
    assert.ok(store.get("c"));
    assert.equal(store.size, 2);
  });

  it("frees a session on delete", () => {
    const store = new SessionStore({ maxSessions: 2, idleTtlMs: 1e9 });
    store.put(session("a"));
    assert.equal(store.delete("a"), true);
    assert.equal(store.delete("a"), false);
    assert.equal(store.get("a"), undefined);
  });

  it("sweeps expired sessions without being asked for them", () => {
    let now = 0;
    const store = new SessionStore({ maxSessions: 10, idleTtlMs: 10, now: () => now });
    store.put(session("a"));
    store.put(session("b"));
    now = 50;
    store.sweep();
    assert.equal(store.size, 0);
  });
});
