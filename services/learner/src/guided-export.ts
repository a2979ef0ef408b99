import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { contracts, passedTests, unguidedTranscript } from "@sluice/common";
import type { Ackable, ReadyGroup } from "./group-buffer.js";

/**
 * One line of the guidance-augmented data set (Agent-RLVR §3.4, arXiv 2506.11425: a test-time
 * outcome reward model is trained on (trajectory, pass/fail) from guided training). `text` is
 * the transcript without its guidance, i.e. what the model will see at test time, when no
 * guidance exists.
 */
export interface GuidedDataRecord {
  /** The learner step that trained it. */
  step: number;
  task_id: string;
  trajectory_id: string;
  group_id: string;
  guidance_round: number;
  guided_from: string;
  guidance_kinds: string[];
  passed: boolean;
  score: number;
  reward: number;
  text: string;
}

export function guidedDataRecord(
  s: contracts.ScoredTrajectory,
  successThreshold: number,
  step: number,
): GuidedDataRecord {
  const t = s.trajectory!;
  return {
    step,
    task_id: t.taskId,
    trajectory_id: t.trajectoryId,
    group_id: t.groupId,
    guidance_round: t.guidanceRound ?? 0,
    guided_from: t.guidedFromTrajectoryId ?? "",
    guidance_kinds: [...new Set(t.guidance.map((g) => g.kind))],
    passed: passedTests(t, successThreshold),
    score: t.outcome?.score ?? 0,
    reward: s.reward,
    text: unguidedTranscript(t),
  };
}

/**
 * Appends the valid members of each trained group to a JSONL file (`<runDir>/guided-data.jsonl`).
 * Trajectory ids already written are skipped, so a group redelivered in this process is not
 * written twice; a restarted learner may repeat the last unacknowledged steps' lines (readers
 * dedupe on trajectory_id).
 */
export class GuidedDataExporter {
  private readonly written = new Set<string>();
  constructor(
    private readonly path: string,
    private readonly successThreshold: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  append<M extends Ackable>(groups: readonly ReadyGroup<M>[], step: number): number {
    const lines: string[] = [];
    for (const g of groups) {
      for (const s of g.valid) {
        const id = s.scored.trajectory?.trajectoryId ?? "";
        if (!id || this.written.has(id)) continue;
        this.written.add(id);
        lines.push(JSON.stringify(guidedDataRecord(s.scored, this.successThreshold, step)));
      }
    }
    if (lines.length > 0) appendFileSync(this.path, lines.join("\n") + "\n");
    return lines.length;
  }
}
