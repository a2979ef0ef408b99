import { contracts, mixSeed, packFloat32, packInt32 } from "@sluice/common";
import { GroupBuffer, buildStepBatch, type DropReason } from "@sluice/learner";
import { InMemoryAdmissionStore, hasRoomForGroup } from "./admission.js";
import type { SimConfig } from "./config.js";
import { EventQueue } from "./event-queue.js";
import { episodeDurationS } from "./lognormal.js";

/** What one simulated run measured. Ratios are of the run's makespan. */
export interface SimResult {
  config: SimConfig;
  /** Learner steps completed (= config.steps unless the run wedged). */
  steps: number;
  /** True when every event was processed before the learner reached config.steps. */
  wedged: boolean;
  /** Simulated seconds until the learner published its last version. */
  makespanS: number;
  stepsPerHour: number;
  /** Share of the makespan the learner was not computing (waiting for data or for a weight sync). */
  trainerIdleRatio: number;
  /** Share of slot time not spent generating or running tools (empty or held by a weight update). */
  rolloutIdleRatio: number;
  /** Share of slot time spent generating. */
  generationUtilisation: number;
  /** Share of slot time an episode was held by a weight update (drain, sync, interruption). */
  heldByUpdateRatio: number;
  /** Mean seconds from the end of a learner step's compute to the start of its weight load. */
  meanDrainS: number;
  trained: number;
  /** Trajectories dropped by the learner, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** stale drops / (trained + every drop). */
  staleFraction: number;
  /** Groups that lost every member to the staleness filter. */
  groupsDroppedWhole: number;
  /** histogram[k]: trained samples k versions old (oldest action token vs the learner's version). */
  stalenessHistogram: number[];
  stalenessMean: number;
  stalenessP95: number;
  stalenessMax: number;
  /** Per-token version lag of trained tokens (tokens ∝ generation time), mean. */
  tokenLagMean: number;
  /** Most episodes in flight when a learner step started (0 means the step waited for every rollout). */
  maxInFlightAtStepStart: number;
  /** Trajectories whose tokens span more than one policy version. */
  mixedVersionTrajectories: number;
}

/** new: admitted, not yet started; waiting: its next generation call is held by a weight update. */
type Phase = "new" | "generating" | "tool" | "waiting" | "paused";

interface Episode {
  id: string;
  ordinal: number;
  index: number;
  actor: number;
  groupId: string;
  admittedVersion: number;
  turn: number;
  /** Decode seconds of each turn's generation call, and tool seconds of each turn. */
  generateS: number;
  toolS: number;
  phase: Phase;
  /** Bumped whenever the episode's scheduled event becomes void (interruption). */
  epoch: number;
  /** When decoding of the current stretch starts (after a resume's re-prefill). */
  decodeStart: number;
  /** Decode seconds left of the current turn's generation. */
  remainingS: number;
  /** Decode seconds per policy version (tokens ∝ decode time). */
  decodeByVersion: Map<number, number>;
}

type SimEvent =
  { kind: "segment_end"; episode: Episode; epoch: number } | { kind: "learner_computed" } | { kind: "weights_loaded" };

/** A JetStream message stand-in: the buffer only needs ack(). */
class SimMessage {
  ack(): void {}
}

/**
 * Runs one configuration to `config.steps` learner steps. Deterministic for a config.
 *
 * Real code on the path: the actors' `decideAdmission` (through InMemoryAdmissionStore)
 * and concurrency gate, the learner's `GroupBuffer` (grouping, group timeout, staleness
 * filter at consumption, its staleness and drop hooks) and `buildStepBatch`. Simulated:
 * time, episodes, inference and weight updates, the learner's compute.
 */
export function simulate(config: SimConfig): SimResult {
  return new Simulation(config).run();
}

class Simulation {
  private readonly q = new EventQueue<SimEvent>();
  private readonly admission: InMemoryAdmissionStore;
  private readonly buffer: GroupBuffer<SimMessage>;
  private readonly running: number[];
  private readonly exhausted: boolean[];
  private readonly inFlight = new Set<Episode>();
  private readonly decodeById = new Map<string, Map<number, number>>();
  private readonly held: Episode[] = [];
  private version = 0;
  private groupsStarted = 0;
  private stepsDone = 0;
  private learner: "idle" | "training" | "updating" = "idle";
  private update: "none" | "draining" | "loading" = "none";
  private updateRequestedAt = 0;
  private drainTotalS = 0;
  private generating = 0;
  private tooling = 0;
  private holding = 0;
  // Time integrals.
  private lastT = 0;
  private slotActiveS = 0;
  private slotGeneratingS = 0;
  private slotHeldS = 0;
  private trainerBusyS = 0;
  // Accounting.
  private trained = 0;
  private readonly dropped: Partial<Record<DropReason, number>> = {};
  private readonly histogram: number[] = [];
  private readonly groupSamples = new Map<string, number>();
  private groupsDroppedWhole = 0;
  private tokenLagSum = 0;
  private tokenSum = 0;
  private maxInFlightAtStepStart = 0;
  private mixedVersionTrajectories = 0;

  constructor(private readonly c: SimConfig) {
    validate(c);
    this.admission = new InMemoryAdmissionStore({
      groupsPerStep: c.groupsPerStep,
      maxStaleness: c.maxStaleness,
      steps: c.admissionBudget === "exact" ? c.steps : Number.POSITIVE_INFINITY,
    });
    this.buffer = new GroupBuffer<SimMessage>({
      groupTimeoutMs: c.groupTimeoutS * 1000,
      policy: "drop",
      now: () => this.q.now * 1000,
      onDrop: (reason, id) => this.onDrop(reason, id),
      onStaleness: (lag) => {
        while (this.histogram.length <= lag) this.histogram.push(0);
        this.histogram[lag]! += 1;
      },
    });
    this.running = Array.from({ length: c.actors }, () => 0);
    this.exhausted = Array.from({ length: c.actors }, () => false);
  }

  run(): SimResult {
    // The learner has published version 0; actors admit against it.
    this.dispatch();
    for (;;) {
      if (this.stepsDone >= this.c.steps) break;
      const ev = this.q.pop();
      if (!ev) break;
      this.integrate(ev.at);
      this.handle(ev.payload);
    }
    return this.result();
  }

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case "segment_end":
        if (ev.epoch === ev.episode.epoch) this.segmentEnd(ev.episode);
        return;
      case "learner_computed":
        this.beginWeightUpdate();
        return;
      case "weights_loaded":
        this.weightsLoaded();
        return;
    }
  }

  // ---- actors ------------------------------------------------------------------------

  /** Every actor admits groups while its concurrency and the shared admission allow. */
  private dispatch(): void {
    const c = this.c;
    for (let a = 0; a < c.actors; a++) {
      while (!this.exhausted[a] && hasRoomForGroup(this.running[a]!, c.groupSize, c.slotsPerActor)) {
        const r = this.admission.tryAdmit(this.version);
        if (!r.admitted) {
          if (r.reason === "budget") this.exhausted[a] = true;
          break;
        }
        // The admission ordinal repeats once a slot is given back; groups need unique ids.
        this.startGroup(a, this.groupsStarted++);
      }
    }
  }

  private startGroup(actor: number, ordinal: number): void {
    const c = this.c;
    const groupId = `g${ordinal}`;
    this.groupSamples.set(groupId, c.groupSize);
    for (let index = 0; index < c.groupSize; index++) {
      const total = episodeDurationS(c.episode, c.seed, ordinal, index);
      const perTurn = total / c.turnsPerEpisode;
      const e: Episode = {
        id: `${groupId}-${index}`,
        ordinal,
        index,
        actor,
        groupId,
        admittedVersion: this.version,
        turn: 0,
        generateS: perTurn * c.generationShare,
        toolS: perTurn * (1 - c.generationShare),
        phase: "new",
        epoch: 0,
        decodeStart: 0,
        remainingS: perTurn * c.generationShare,
        decodeByVersion: new Map(),
      };
      this.running[actor]! += 1;
      this.inFlight.add(e);
      this.startGeneration(e, 0);
    }
  }

  /** A turn's generation call: held while a weight update is under way, else decodes. */
  private startGeneration(e: Episode, prefillS: number): void {
    this.leavePhase(e);
    if (this.update !== "none") {
      e.phase = "waiting";
      this.holding++;
      this.held.push(e);
      return;
    }
    e.phase = "generating";
    this.generating++;
    e.decodeStart = this.q.now + prefillS;
    e.epoch++;
    this.q.schedule(e.decodeStart + e.remainingS, { kind: "segment_end", episode: e, epoch: e.epoch });
  }

  private segmentEnd(e: Episode): void {
    if (e.phase === "generating") {
      this.creditDecode(e);
      e.remainingS = 0;
      this.leavePhase(e);
      e.phase = "tool";
      this.tooling++;
      e.epoch++;
      this.q.after(e.toolS, { kind: "segment_end", episode: e, epoch: e.epoch });
      if (this.update === "draining" && this.generating === 0) this.startWeightLoad();
      return;
    }
    // End of a turn's tool execution.
    e.turn++;
    if (e.turn < this.c.turnsPerEpisode) {
      e.remainingS = e.generateS;
      this.startGeneration(e, 0);
      return;
    }
    this.finishEpisode(e);
  }

  private finishEpisode(e: Episode): void {
    this.leavePhase(e);
    this.inFlight.delete(e);
    this.running[e.actor]! -= 1;
    if (e.decodeByVersion.size > 1) this.mixedVersionTrajectories++;
    this.decodeById.set(e.id, e.decodeByVersion);
    this.buffer.add(this.scoredTrajectory(e), new SimMessage());
    this.buffer.expire();
    this.tryLearnerStep();
    this.dispatch();
  }

  /** Tokens decoded since the stretch began are credited to the version now served. */
  private creditDecode(e: Episode): number {
    const decoded = Math.max(0, this.q.now - e.decodeStart);
    if (decoded > 0) e.decodeByVersion.set(this.version, (e.decodeByVersion.get(this.version) ?? 0) + decoded);
    return decoded;
  }

  private leavePhase(e: Episode): void {
    if (e.phase === "generating") this.generating--;
    else if (e.phase === "tool") this.tooling--;
    else if (e.phase !== "new") this.holding--;
  }

  /**
   * The trajectory as the learner receives it: one action token per policy version that
   * generated part of it (the learner reads only the versions), reward 0 or 1.
   */
  private scoredTrajectory(e: Episode): contracts.ScoredTrajectory {
    const versions = [...e.decodeByVersion.keys()].sort((a, b) => a - b);
    const turn = contracts.Turn.fromPartial({
      observationTokenIds: packInt32([1]),
      actionTokenIds: packInt32(versions.map((_, i) => 2 + i)),
      actionLogprobs: packFloat32(versions.map(() => -1)),
      actionPolicyVersions: packInt32(versions),
    });
    return contracts.ScoredTrajectory.fromPartial({
      trajectory: {
        trajectoryId: e.id,
        experiment: "sim",
        taskId: `task-${e.ordinal}`,
        groupId: e.groupId,
        groupSize: this.c.groupSize,
        indexInGroup: e.index,
        turns: [turn],
        failure: contracts.FailureKind.FAILURE_KIND_NONE,
        admittedPolicyVersion: e.admittedVersion,
      },
      reward: mixSeed(this.c.seed ^ 0x5eed, e.ordinal * this.c.groupSize + e.index) & 1,
    });
  }

  // ---- learner -----------------------------------------------------------------------

  private tryLearnerStep(): void {
    if (this.learner !== "idle" || this.stepsDone >= this.c.steps) return;
    const groups = this.buffer.takeGroups(this.c.groupsPerStep, this.version, this.c.maxStaleness);
    if (!groups) return;
    const batch = buildStepBatch(groups, { estimator: "grpo" });
    this.trained += batch.trained;
    for (const g of groups) {
      for (const s of g.valid) {
        const id = s.scored.trajectory!.trajectoryId;
        for (const [v, seconds] of this.decodeById.get(id) ?? []) {
          this.tokenLagSum += (this.version - v) * seconds;
          this.tokenSum += seconds;
        }
        this.decodeById.delete(id);
      }
    }
    this.buffer.takeAcks();
    this.maxInFlightAtStepStart = Math.max(this.maxInFlightAtStepStart, this.inFlight.size);
    this.learner = "training";
    this.q.after(this.c.learnerStepS, { kind: "learner_computed" });
  }

  private beginWeightUpdate(): void {
    this.learner = "updating";
    this.updateRequestedAt = this.q.now;
    if (this.c.partialRollouts) {
      // Interrupt: every generation in flight stops now and resumes after the load.
      for (const e of this.inFlight) {
        if (e.phase !== "generating") continue;
        e.remainingS = Math.max(0, e.remainingS - this.creditDecode(e));
        this.leavePhase(e);
        e.phase = "paused";
        e.epoch++;
        this.holding++;
        this.held.push(e);
      }
      this.startWeightLoad();
      return;
    }
    // No interruption: the update waits for the generations in flight; none starts meanwhile.
    this.update = "draining";
    if (this.generating === 0) this.startWeightLoad();
  }

  private startWeightLoad(): void {
    this.drainTotalS += this.q.now - this.updateRequestedAt;
    this.update = "loading";
    this.q.after(this.c.weightSyncS, { kind: "weights_loaded" });
  }

  private weightsLoaded(): void {
    this.version++;
    this.stepsDone++;
    this.update = "none";
    this.learner = "idle";
    const held = this.held.splice(0);
    for (const e of held) this.startGeneration(e, e.phase === "paused" ? this.c.resumeOverheadS : 0);
    this.tryLearnerStep();
    this.dispatch();
  }

  private onDrop(reason: DropReason, id: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    this.decodeById.delete(id);
    const groupId = id.slice(0, id.lastIndexOf("-"));
    const left = (this.groupSamples.get(groupId) ?? 0) - 1;
    this.groupSamples.set(groupId, left);
    if (left !== 0) return;
    if (reason === "stale") this.groupsDroppedWhole++;
    if (!this.c.releaseDroppedGroups) return;
    // Every caller of the buffer dispatches afterwards, which uses the slot given back; an
    // actor that had found the budget spent is assumed to still be there to take it.
    this.admission.release();
    this.exhausted.fill(false);
  }

  // ---- measurement -------------------------------------------------------------------

  private integrate(t: number): void {
    const dt = t - this.lastT;
    if (dt <= 0) return;
    this.slotActiveS += (this.generating + this.tooling) * dt;
    this.slotGeneratingS += this.generating * dt;
    this.slotHeldS += this.holding * dt;
    if (this.learner === "training") this.trainerBusyS += dt;
    this.lastT = t;
  }

  private result(): SimResult {
    const c = this.c;
    const makespanS = this.lastT;
    const slotS = c.actors * c.slotsPerActor * makespanS;
    const histogram = [...this.histogram];
    const samples = histogram.reduce((a, b) => a + b, 0);
    const lagSum = histogram.reduce((sum, n, lag) => sum + lag * n, 0);
    const max = Math.max(0, histogram.length - 1);
    const drops = Object.values(this.dropped).reduce<number>((a, b) => a + (b ?? 0), 0);
    return {
      config: c,
      steps: this.stepsDone,
      wedged: this.stepsDone < c.steps,
      makespanS,
      stepsPerHour: makespanS > 0 ? (this.stepsDone * 3600) / makespanS : 0,
      trainerIdleRatio: makespanS > 0 ? 1 - this.trainerBusyS / makespanS : 0,
      rolloutIdleRatio: slotS > 0 ? 1 - this.slotActiveS / slotS : 0,
      generationUtilisation: slotS > 0 ? this.slotGeneratingS / slotS : 0,
      heldByUpdateRatio: slotS > 0 ? this.slotHeldS / slotS : 0,
      meanDrainS: this.stepsDone > 0 ? this.drainTotalS / this.stepsDone : 0,
      trained: this.trained,
      dropped: { ...this.dropped },
      staleFraction: this.trained + drops > 0 ? (this.dropped.stale ?? 0) / (this.trained + drops) : 0,
      groupsDroppedWhole: this.groupsDroppedWhole,
      stalenessHistogram: histogram,
      stalenessMean: samples > 0 ? lagSum / samples : 0,
      stalenessP95: percentile(histogram, 0.95),
      stalenessMax: max,
      tokenLagMean: this.tokenSum > 0 ? this.tokenLagSum / this.tokenSum : 0,
      maxInFlightAtStepStart: this.maxInFlightAtStepStart,
      mixedVersionTrajectories: this.mixedVersionTrajectories,
    };
  }
}

/** The smallest k with at least q of the histogram's mass at ≤ k (0 for an empty one). */
export function percentile(histogram: readonly number[], q: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (let k = 0; k < histogram.length; k++) {
    seen += histogram[k]!;
    if (seen >= q * total) return k;
  }
  return histogram.length - 1;
}

function validate(c: SimConfig): void {
  const positiveInts: [string, number][] = [
    ["steps", c.steps],
    ["groupSize", c.groupSize],
    ["groupsPerStep", c.groupsPerStep],
    ["actors", c.actors],
    ["slotsPerActor", c.slotsPerActor],
    ["turnsPerEpisode", c.turnsPerEpisode],
  ];
  for (const [name, v] of positiveInts) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(c.maxStaleness) || c.maxStaleness < 0) {
    throw new RangeError(`maxStaleness must be a non-negative integer, got ${c.maxStaleness}`);
  }
  if (!(c.generationShare > 0 && c.generationShare <= 1)) {
    throw new RangeError(`generationShare must be in (0, 1], got ${c.generationShare}`);
  }
  for (const [name, v] of [
    ["learnerStepS", c.learnerStepS],
    ["weightSyncS", c.weightSyncS],
    ["resumeOverheadS", c.resumeOverheadS],
    ["groupTimeoutS", c.groupTimeoutS],
    ["episode.medianS", c.episode.medianS],
    ["episode.sigma", c.episode.sigma],
    ["episode.capS", c.episode.capS],
  ] as const) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number ≥ 0, got ${v}`);
  }
}
