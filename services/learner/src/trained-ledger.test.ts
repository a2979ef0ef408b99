import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LEDGER_FILE, LEDGER_FORMAT, TrainedLedger, readLedger } from "./trained-ledger.js";

void describe("trained ledger", () => {
  void it("writes the fates of exactly the ids a checkpoint covers and keeps the rest for later", () => {
    const root = mkdtempSync(join(tmpdir(), "ledger-"));
    const ledger = new TrainedLedger();
    ledger.noteTrained(["a", "b"], 1);
    ledger.noteDropped("c", "stale");
    ledger.noteDropped("c", "duplicate"); // the first decision stands
    ledger.noteDropped("e", "stale"); // decided, but its message is not acked yet
    ledger.noteDropped("b", "duplicate"); // a dropped copy of a trained id
    ledger.write(join(root, "step-1"), 1, 1, ["a", "b", "c", "b"]);
    ledger.noteTrained(["d"], 2);
    ledger.write(join(root, "step-2"), 2, 2, ["d", "e"]);
    assert.deepEqual(readLedger(join(root, "step-1")), {
      format: LEDGER_FORMAT,
      step: 1,
      policy_version: 1,
      trained: { a: 1, b: 1 },
      dropped: { c: "stale" },
    });
    assert.deepEqual(readLedger(join(root, "step-2")), {
      format: LEDGER_FORMAT,
      step: 2,
      policy_version: 2,
      trained: { d: 2 },
      dropped: { e: "stale" },
    });
    assert.equal(existsSync(join(root, "step-2", `${LEDGER_FILE}.tmp`)), false);
  });

  void it("reads nothing where no ledger was written and names a malformed one", () => {
    const dir = mkdtempSync(join(tmpdir(), "ledger-"));
    assert.equal(readLedger(dir), undefined);
    writeFileSync(join(dir, LEDGER_FILE), JSON.stringify({ format: "other" }));
    assert.throws(() => readLedger(dir), /trained-ids\.json: not a sluice-trained-ledger\/1 record/);
  });
});
