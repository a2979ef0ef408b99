import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contracts } from "@sluice/common";
import { GroupBuffer, type DropReason, type GroupBufferOptions } from "./group-buffer.js";
import { makeScored } from "./testing/fixtures.js";

class Msg {
  acked = 0;
  constructor(readonly id: string) {}
  ack(): void {
    this.acked++;
  }
}

function setup(o: Partial<GroupBufferOptions> = {}) {
  let now = 1_000;
  const drops: [DropReason, string][] = [];
  const lags: number[] = [];
  const buf = new GroupBuffer<Msg>({
    groupTimeoutMs: 5_000,
    now: () => now,
    onDrop: (r, id) => drops.push([r, id]),
    onStaleness: (l) => lags.push(l),
    ...o,
  });
  const add = (
    id: string,
    groupId: string,
    groupSize: number,
    extra: { version?: number; failure?: contracts.FailureKind } = {},
  ) => buf.add(makeScored({ id, groupId, groupSize, reward: 1, ...extra }), new Msg(id));
  return { buf, drops, lags, add, advance: (ms: number) => (now += ms) };
}

void describe("GroupBuffer", () => {
  void it("releases a group once group_size members arrived", () => {
    const { buf, add } = setup();
    add("a1", "A", 2);
    assert.equal(buf.takeGroups(1, 0, 0), undefined);
    add("a2", "A", 2);
    const groups = buf.takeGroups(1, 0, 0);
    assert.equal(groups?.length, 1);
    assert.deepEqual(
      groups![0]!.valid.map((s) => s.scored.trajectory!.trajectoryId),
      ["a1", "a2"],
    );
    assert.equal(buf.depth(), 0);
  });

  void it("waits until B groups are ready", () => {
    const { buf, add } = setup();
    add("a1", "A", 1);
    assert.equal(buf.takeGroups(2, 0, 0), undefined);
    add("b1", "B", 1);
    assert.equal(buf.takeGroups(2, 0, 0)?.length, 2);
  });

  void it("ignores redelivered trajectory ids and acks them with the next step", () => {
    const { buf, add, drops } = setup();
    assert.equal(add("a1", "A", 2), "added");
    assert.equal(add("a1", "A", 2), "duplicate");
    assert.deepEqual(drops, [["duplicate", "a1"]]);
    assert.equal(buf.takeGroups(1, 0, 0), undefined, "a duplicate does not complete a group");
    const acks = buf.takeAcks();
    assert.equal(acks.length, 1);
    assert.equal(buf.takeAcks().length, 0);
  });

  void it("drops groups still incomplete after the timeout (default policy drop)", () => {
    const { buf, add, drops, advance } = setup();
    add("a1", "A", 3);
    add("a2", "A", 3);
    advance(4_999);
    buf.expire();
    assert.equal(buf.depth(), 2);
    advance(1);
    buf.expire();
    assert.equal(buf.depth(), 0);
    assert.deepEqual(drops, [
      ["group_timeout", "a1"],
      ["group_timeout", "a2"],
    ]);
    assert.equal(buf.takeAcks().length, 2);
    assert.equal(add("a3", "A", 3), "late", "a member arriving after its group closed is dropped");
    assert.equal(drops.at(-1)![0], "group_timeout");
  });

  void it("complete_partial trains a timed-out group with at least two valid members", () => {
    const { buf, add, advance, drops } = setup({ policy: "complete_partial" });
    add("a1", "A", 4);
    add("a2", "A", 4);
    add("b1", "B", 4);
    add("b2", "B", 4, { failure: contracts.FailureKind.FAILURE_KIND_SANDBOX_ERROR });
    advance(5_000);
    buf.expire();
    const groups = buf.takeGroups(1, 0, 0);
    assert.equal(groups?.length, 1);
    assert.equal(groups![0]!.groupId, "A");
    assert.equal(groups![0]!.partial, true);
    assert.deepEqual(
      drops.map((d) => d[0]),
      ["group_timeout", "group_timeout"],
      "B had one valid member",
    );
  });

  void it("drops samples older than the staleness bound at consumption", () => {
    const { buf, add, drops, lags } = setup();
    add("a1", "A", 3, { version: 3 });
    add("a2", "A", 3, { version: 4 });
    add("a3", "A", 3, { version: 5 });
    // current 5, η = 1: versions < 4 are stale
    const groups = buf.takeGroups(1, 5, 1);
    assert.deepEqual(
      groups![0]!.valid.map((s) => s.scored.trajectory!.trajectoryId),
      ["a2", "a3"],
    );
    assert.deepEqual(drops, [["stale", "a1"]]);
    assert.deepEqual(lags, [1, 0]);
    assert.equal(buf.takeAcks().length, 1);
  });

  void it("acks a member dropped at consumption with its group, not before it", () => {
    const { buf, add, drops } = setup();
    add("a1", "A", 2, { version: 0 });
    add("a2", "A", 2, { version: 5 });
    // Two groups per step, one ready: a1 is dropped now, but the group is still held.
    assert.equal(buf.takeGroups(2, 5, 1), undefined);
    assert.deepEqual(drops, [["stale", "a1"]]);
    assert.equal(buf.takeAcks().length, 0, "acking a1 alone would strand a2 after a restart");
    assert.equal(buf.heldMessages().length, 2, "the held drop is kept alive by the heartbeat too");
    add("b1", "B", 1, { version: 5 });
    assert.equal(buf.takeGroups(2, 5, 1)?.length, 2);
    assert.equal(buf.takeAcks().length, 1);
  });

  void it("reports a group dropped whole at consumption, so admission can refill it", () => {
    const dropped: string[] = [];
    const { buf, add } = setup({ onGroupDropped: (g) => dropped.push(g) });
    add("a1", "A", 2, { version: 1 });
    add("a2", "A", 2, { version: 2 });
    add("b1", "B", 2, { version: 5 });
    add("b2", "B", 2, { version: 3 });
    // current 6, η = 2: versions < 4 are stale; A loses both members, B keeps one
    const groups = buf.takeGroups(1, 6, 2);
    assert.deepEqual(
      groups?.map((g) => g.groupId),
      ["B"],
    );
    assert.deepEqual(dropped, ["A"]);
  });

  void it("DAPO dynamic sampling drops a group whose rewards are all equal and reports it for refill", () => {
    const dropped: string[] = [];
    const { buf, drops } = setup({ dropZeroVariance: true, onGroupDropped: (g) => dropped.push(g) });
    const add = (id: string, groupId: string, reward: number) =>
      buf.add(makeScored({ id, groupId, groupSize: 2, reward }), new Msg(id));
    add("a1", "A", 1);
    add("a2", "A", 1);
    add("b1", "B", 0);
    add("b2", "B", 1);
    const groups = buf.takeGroups(1, 0, 0);
    assert.deepEqual(
      groups?.map((g) => g.groupId),
      ["B"],
    );
    assert.deepEqual(dropped, ["A"]);
    assert.deepEqual(drops, [
      ["zero_variance", "a1"],
      ["zero_variance", "a2"],
    ]);
    // Off by default: the same group is kept.
    const plain = setup();
    plain.add("c1", "C", 2);
    plain.add("c2", "C", 2);
    assert.equal(plain.buf.takeGroups(1, 0, 0)?.length, 1);
  });

  void it("excludes infra-failed members and discards groups left empty", () => {
    const { buf, add, drops } = setup();
    add("a1", "A", 2, { failure: contracts.FailureKind.FAILURE_KIND_HARNESS_TIMEOUT });
    add("a2", "A", 2);
    add("b1", "B", 1, { failure: contracts.FailureKind.FAILURE_KIND_VERIFIER_ERROR });
    const groups = buf.takeGroups(1, 0, 0);
    assert.equal(groups?.length, 1);
    assert.deepEqual(
      groups![0]!.valid.map((s) => s.scored.trajectory!.trajectoryId),
      ["a2"],
    );
    assert.deepEqual(drops, [
      ["infra_verifier_error", "b1"],
      ["infra_harness_timeout", "a1"],
    ]);
    assert.equal(buf.readyCount(), 0);
  });

  void it("lists every held message for ack-deadline heartbeats", () => {
    const { buf, add } = setup();
    add("a1", "A", 2);
    add("b1", "B", 1);
    add("b1", "B", 1);
    assert.equal(buf.heldMessages().length, 3);
  });
});
