import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { contracts } from "@sluice/common";
import { GuidedDataExporter, type GuidedDataRecord } from "./guided-export.js";
import type { ReadyGroup } from "./group-buffer.js";

const noop = { ack: () => undefined };
const FEEDBACK = "Feedback: test/num.js::nums failed";

function member(id: string, score: number, guided: boolean): ReadyGroup<typeof noop>["valid"][number] {
  const t = contracts.Trajectory.fromPartial({
    trajectoryId: id,
    taskId: "task-1",
    groupId: "g",
    failure: contracts.FailureKind.FAILURE_KIND_NONE,
    outcome: { score },
    guidanceRound: guided ? 1 : 0,
    guidedFromTrajectoryId: guided ? "a0" : "",
    turns: [{ observationText: guided ? `fix it\n${FEEDBACK}` : "fix it", actionText: "patch" }],
    guidance: guided
      ? [{ kind: "environment_feedback", text: FEEDBACK, round: 1, injectedAtTurn: 0, tokenStart: 1, tokenEnd: 2 }]
      : [],
  });
  return { scored: contracts.ScoredTrajectory.fromPartial({ trajectory: t, reward: score }), msg: noop, version: 0 };
}

void describe("GuidedDataExporter", () => {
  void it("writes (unguided transcript, pass/fail) lines once per trajectory", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-guided-export-"));
    try {
      const path = join(dir, "guided-data.jsonl");
      const exporter = new GuidedDataExporter(path, 1);
      const group = {
        groupId: "g",
        groupSize: 2,
        partial: false,
        valid: [member("a0", 0, false), member("a2", 1, true)],
      };
      assert.equal(exporter.append([group], 7), 2);
      assert.equal(exporter.append([group], 8), 0, "a redelivered group is not written twice");
      const lines = readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as GuidedDataRecord);
      assert.deepEqual(
        lines.map((r) => [r.step, r.trajectory_id, r.passed, r.guidance_round, r.guidance_kinds]),
        [
          [7, "a0", false, 0, []],
          [7, "a2", true, 1, ["environment_feedback"]],
        ],
      );
      assert.equal(lines[1]!.text, lines[0]!.text, "the guidance is not in the text a test-time model sees");
      assert.doesNotMatch(lines[1]!.text, /Feedback/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
