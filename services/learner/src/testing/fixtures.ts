import { contracts, packFloat32, packInt32, type EventInput, type ExperimentSpec } from "@sluice/common";
import { experimentSpecSchema } from "@sluice/common";

const { FailureKind } = contracts;

export interface TurnFixture {
  obs: number[];
  act: number[];
  logprobs?: number[];
  versions?: number[];
  mask?: number[];
}

export function makeTurn(f: TurnFixture): contracts.Turn {
  return contracts.Turn.fromPartial({
    observationTokenIds: packInt32(f.obs),
    actionTokenIds: packInt32(f.act),
    actionLogprobs: packFloat32(f.logprobs ?? f.act.map(() => -1)),
    actionPolicyVersions: packInt32(f.versions ?? f.act.map(() => 0)),
    actionLossMask: Uint8Array.from(f.mask ?? []),
  });
}

export interface ScoredFixture {
  id: string;
  groupId: string;
  groupSize: number;
  reward: number;
  index?: number;
  failure?: contracts.FailureKind;
  turns?: TurnFixture[];
  /** Version stamped on every action token when `turns` is not given. */
  version?: number;
}

export function makeScored(f: ScoredFixture): contracts.ScoredTrajectory {
  const turns = f.turns ?? [{ obs: [1, 2], act: [3, 4], versions: [f.version ?? 0, f.version ?? 0] }];
  return contracts.ScoredTrajectory.fromPartial({
    trajectory: {
      trajectoryId: f.id,
      experiment: "test",
      taskId: `task-${f.groupId}`,
      groupId: f.groupId,
      groupSize: f.groupSize,
      indexInGroup: f.index ?? 0,
      turns: turns.map(makeTurn),
      failure: f.failure ?? FailureKind.FAILURE_KIND_NONE,
      admittedPolicyVersion: f.version ?? 0,
    },
    reward: f.reward,
  });
}

export function testSpec(overrides: Record<string, unknown> = {}): ExperimentSpec {
  return experimentSpecSchema.parse({ steps: 2, environment: { name: "digits" }, ...overrides });
}

/** Records events instead of publishing them. */
export class RecordingEvents {
  readonly events: EventInput[] = [];
  async emit(e: EventInput): Promise<void> {
    this.events.push(e);
  }
  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
}
