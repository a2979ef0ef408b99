import {
  KV_KEYS,
  DedupePublisher,
  errorMessage,
  experimentSubjects,
  contracts,
  sleep,
  type EventInput,
  type ExperimentSpec,
  type KV,
  type Logger,
  type NatsHandles,
  type ObjectStore,
  type ServiceContext,
} from "@sluice/common";
import type { AdmissionConfig } from "./admission.js";
import { KvAdmissionStore } from "./admission-store.js";
import { createActorMetrics, type ActorMetrics } from "./actor-metrics.js";
import type { ChatMessage } from "./chat-types.js";
import type { BoundEnvironment } from "./environment.js";
import { defaultEnvironmentRegistry, type EnvironmentRegistry } from "./environments/registry.js";
import { EpisodeAbortedError } from "./errors.js";
import { episodeSeed, runEpisode } from "./episode-runner.js";
import { runFinalEvaluation, type EvaluationSummary } from "./evaluation.js";
import type { ChatCompleter } from "./gateway-client.js";
import { readPolicy } from "./policy-reader.js";
import { createGuidanceMetrics, guidanceProviders, runGuidedGroup, type GuidanceMetrics } from "./guidance/index.js";

/** Where events go (EventPublisher in production). */
export interface EventSink {
  emit(input: EventInput): Promise<void>;
}

export interface ActorOptions {
  actorId: string;
  experiment: string;
  spec: ExperimentSpec;
  nats: NatsHandles;
  /** The experiment KV bucket (`sluice_<exp>`): policy key and admission counter. */
  kv: KV;
  /** Object store for trajectories over the server's max_payload. */
  blobs?: ObjectStore;
  gateway: ChatCompleter;
  logger: Logger;
  registry: ServiceContext["registry"];
  events: EventSink;
  environments?: EnvironmentRegistry;
  /** gRPC address of the sandbox service, for environments that run tools in sandboxes. */
  sandboxAddress?: string;
  /** How often the policy key is polled while waiting (ms). */
  pollIntervalMs?: number;
  /** Teacher requests of plan hints (tests inject a stub); default global fetch. */
  guidanceFetch?: typeof fetch;
}

export interface ActorSummary {
  reason: "budget_exhausted" | "stopped";
  groupsAdmitted: number;
  trajectoriesPublished: number;
  /** The final evaluation this actor took part in (spec.evaluation.enabled, budget spent). */
  evaluation?: EvaluationSummary;
}

const PUBLISH_ATTEMPTS = 5;

/**
 * The rollout worker: admits task groups under the staleness bound, runs each group's
 * G episodes concurrently against the gateway and publishes every trajectory to
 * `sluice.<exp>.traj`. Several actors share one admission counter, so the run's
 * budget of steps·B groups is spent exactly once across all of them.
 */
/**
 * A group's id is its admission slot: a slot run again (its actor died after publishing some or
 * all members but before completing the slot, or its lease expired) publishes the same
 * trajectory ids, which JetStream's Nats-Msg-Id window drops as duplicates. So a slot trains
 * once, however often it runs, and a killed actor's partial group is completed, not orphaned.
 */
export function groupIdOf(ordinal: number): string {
  return `g${ordinal}`;
}

export class Actor {
  private readonly env: BoundEnvironment;
  /** Held-out tasks of the final evaluation (spec.evaluation); the training environment unless one is given. */
  private readonly evalEnv: BoundEnvironment | undefined;
  private readonly admission: KvAdmissionStore;
  private readonly publisher: DedupePublisher;
  private readonly metrics: ActorMetrics;
  private readonly subject: string;
  private readonly pollMs: number;
  private readonly logger: Logger;
  private readonly guidanceMetrics: GuidanceMetrics | undefined;
  private running = 0;
  private idleMs = 0;
  private idleSince: number | undefined;
  private startedAt = Date.now();
  private published = 0;
  private admitted = 0;

  constructor(private readonly o: ActorOptions) {
    const registry = o.environments ?? defaultEnvironmentRegistry();
    // Bind first: a bad environment config fails the actor at start, not per episode.
    const context = {
      logger: o.logger,
      ...(o.sandboxAddress !== undefined ? { sandboxAddress: o.sandboxAddress } : {}),
    };
    this.env = registry.bind(o.spec.environment.name, o.spec.environment.config, o.spec.seed, context);
    const evaluation = o.spec.evaluation;
    this.evalEnv = !evaluation.enabled
      ? undefined
      : evaluation.environment
        ? registry.bind(evaluation.environment.name, evaluation.environment.config, o.spec.seed, context)
        : this.env;
    const config: AdmissionConfig = {
      groupsPerStep: o.spec.rollout.groupsPerStep,
      maxStaleness: o.spec.rollout.maxStaleness,
      steps: o.spec.steps,
    };
    this.admission = new KvAdmissionStore(o.kv, config, {
      actorId: o.actorId,
      leaseMs: o.spec.rollout.admissionLeaseMs,
    });
    this.publisher = new DedupePublisher(o.nats, o.blobs);
    this.metrics = createActorMetrics(o.registry);
    this.subject = experimentSubjects(o.experiment).traj;
    this.pollMs = o.pollIntervalMs ?? 200;
    this.logger = o.logger.child({ actorId: o.actorId });
    this.guidanceMetrics = o.spec.guidance.enabled ? createGuidanceMetrics(o.registry) : undefined;
  }

  /** Agent-RLVR figures of this actor (undefined when guidance is off). */
  guidanceSnapshot(): ReturnType<GuidanceMetrics["snapshot"]> | undefined {
    return this.guidanceMetrics?.snapshot();
  }

  /** Runs until the run's group budget is spent (and published) or `signal` aborts. */
  async run(signal: AbortSignal): Promise<ActorSummary> {
    const { rollout, watchdog } = this.o.spec;
    this.startedAt = Date.now();
    this.idleSince = this.startedAt;
    if (rollout.groupSize > rollout.maxConcurrentEpisodes) {
      this.logger.warn("groupSize exceeds maxConcurrentEpisodes; a group always runs whole", {
        groupSize: rollout.groupSize,
        maxConcurrentEpisodes: rollout.maxConcurrentEpisodes,
      });
    }
    const groups = new Set<Promise<void>>();
    // A KV watch on the policy key wakes the loop as soon as the learner publishes, so a
    // synchronous (η = 0) run does not lose a poll interval per step; polling remains the
    // fallback if the watch cannot be set up.
    void this.watchPolicy(signal);
    // Leases on this actor's in-flight groups: if it dies, another actor runs them again.
    const renewEvery = Math.max(1_000, Math.floor(rollout.admissionLeaseMs / 3));
    const renewal = setInterval(() => {
      this.admission
        .renew()
        .catch((err: unknown) => this.logger.warn("admission lease renewal failed", { err: errorMessage(err) }));
    }, renewEvery);
    renewal.unref();
    let version: number | undefined;
    let versionSeenAt = Date.now();
    let lastStallEventAt = 0;
    let blockedSince: number | undefined;
    let exhausted = false;

    while (!signal.aborted) {
      this.updateIdleRatio();
      const policy = await this.tryReadPolicy();
      if (policy && policy.version !== version) {
        version = policy.version;
        versionSeenAt = Date.now();
        this.metrics.policyVersion.set(version);
      }
      if (
        version !== undefined &&
        this.running > 0 &&
        this.running + rollout.groupSize > rollout.maxConcurrentEpisodes
      ) {
        // Concurrency is full: wait for an episode to finish (or the next poll tick).
        await Promise.race([...groups, sleep(this.pollMs, signal)]);
        continue;
      }
      let blocked = version === undefined;
      if (version !== undefined) {
        const result = await this.tryAdmit(version);
        if (result === "budget") {
          exhausted = true;
          break;
        }
        if (result === "waiting" && groups.size === 0) {
          // Budget spent; other actors' groups are in flight. Stay to reclaim any whose
          // actor dies, until they are all published.
          await sleep(this.pollMs, signal);
          continue;
        }
        if (typeof result === "number") {
          blockedSince = undefined;
          const group = this.runGroup(result, version, signal).finally(() => groups.delete(group));
          groups.add(group);
          continue;
        }
        blocked = result === "staleness";
      }
      if (blocked) {
        // The watchdog: no newer policy for stallTimeoutMs while we cannot admit.
        blockedSince ??= Date.now();
        const stalledFor = Date.now() - Math.max(versionSeenAt, blockedSince);
        if (stalledFor >= watchdog.stallTimeoutMs && Date.now() - lastStallEventAt >= watchdog.stallTimeoutMs) {
          lastStallEventAt = Date.now();
          void this.o.events.emit({
            kind: "actor_stalled",
            severity: "error",
            message:
              version === undefined
                ? `no policy published in KV key "policy" for ${stalledFor} ms`
                : `policy version ${version} has not advanced for ${stalledFor} ms while admission is blocked`,
            attributes: { actorId: this.o.actorId },
            values: { stalledMs: stalledFor, policyVersion: version ?? -1 },
          });
        }
      }
      const waitStart = Date.now();
      await Promise.race([sleep(this.pollMs, signal), this.policyChanged]);
      if (blocked) this.metrics.admissionWaitSeconds.inc((Date.now() - waitStart) / 1000);
    }

    await Promise.all(groups);
    clearInterval(renewal);
    this.updateIdleRatio();
    const summary: ActorSummary = {
      reason: exhausted ? "budget_exhausted" : "stopped",
      groupsAdmitted: this.admitted,
      trajectoriesPublished: this.published,
    };
    if (exhausted) {
      await this.o.events.emit({
        kind: "actor_budget_exhausted",
        message: `group budget of ${this.o.spec.steps * rollout.groupsPerStep} spent`,
        attributes: { actorId: this.o.actorId },
        values: { groupsAdmitted: this.admitted, trajectoriesPublished: this.published },
      });
    }
    if (exhausted && this.evalEnv && !signal.aborted) {
      const evalSubject = experimentSubjects(this.o.experiment).eval;
      summary.evaluation = await runFinalEvaluation(
        {
          experiment: this.o.experiment,
          actorId: this.o.actorId,
          spec: this.o.spec,
          kv: this.o.kv,
          env: this.evalEnv,
          gateway: this.o.gateway,
          publish: (t) => this.publish(t, evalSubject),
          onSample: (result) => this.metrics.evaluationSamples.inc({ result }),
          logger: this.logger,
          events: this.o.events,
          pollMs: this.pollMs,
        },
        signal,
      );
    }
    this.logger.info("actor finished", { ...summary });
    return summary;
  }

  private policyChanged: Promise<void> = new Promise(() => undefined);
  private notifyPolicyChanged: () => void = () => undefined;

  private resetPolicyChanged(): void {
    this.policyChanged = new Promise((resolve) => {
      this.notifyPolicyChanged = resolve;
    });
  }

  private async watchPolicy(signal: AbortSignal): Promise<void> {
    this.resetPolicyChanged();
    try {
      const watch = await this.o.kv.watch({ key: KV_KEYS.policy });
      signal.addEventListener("abort", () => watch.stop(), { once: true });
      for await (const _entry of watch) {
        const notify = this.notifyPolicyChanged;
        this.resetPolicyChanged();
        notify();
      }
    } catch (err) {
      this.logger.warn("policy watch failed; polling only", { err: errorMessage(err) });
    }
  }

  private async tryReadPolicy(): Promise<contracts.PolicyRecord | undefined> {
    try {
      return await readPolicy(this.o.kv);
    } catch (err) {
      this.logger.warn("policy read failed", { err: errorMessage(err) });
      return undefined;
    }
  }

  /** Group ordinal when admitted, else why not; transport errors count as "retry later". */
  private async tryAdmit(version: number): Promise<number | "staleness" | "budget" | "waiting" | "error"> {
    try {
      const r = await this.admission.tryAdmit(version);
      if (r.admitted) {
        if (r.reclaimed) {
          this.metrics.groupsReclaimed.inc();
          this.logger.warn("reclaimed a group whose actor stopped renewing its lease", { ordinal: r.ordinal });
          void this.o.events.emit({
            kind: "actor_group_reclaimed",
            severity: "warning",
            message: `group ${r.ordinal} re-run: its actor's lease expired or it was given back`,
            attributes: { actorId: this.o.actorId },
            values: { ordinal: r.ordinal },
          });
        } else {
          this.admitted++;
          this.metrics.groupsAdmitted.inc();
        }
        return r.ordinal;
      }
      return r.reason;
    } catch (err) {
      void this.o.events.emit({
        kind: "actor_admission_error",
        severity: "error",
        message: errorMessage(err),
        attributes: { actorId: this.o.actorId },
      });
      return "error";
    }
  }

  /** One episode of the group, counted in the episode metrics. */
  private async runOne(
    ordinal: number,
    groupId: string,
    version: number,
    task: ReturnType<BoundEnvironment["taskSource"]["at"]>,
    indexInGroup: number,
    signal: AbortSignal,
    guidanceMessages?: ChatMessage[],
  ): Promise<contracts.Trajectory> {
    const { rollout } = this.o.spec;
    const started = Date.now();
    const trajectory = await runEpisode(
      {
        experiment: this.o.experiment,
        actorId: this.o.actorId,
        groupId,
        groupSize: rollout.groupSize,
        indexInGroup,
        task,
        environment: this.env,
        admittedPolicyVersion: version,
        maxTurns: rollout.maxTurns,
        episodeTimeoutMs: rollout.episodeTimeoutMs,
        sampling: { ...rollout.sampling, interruptible: rollout.partialRollouts },
        seed: rollout.sampling.seeded ? episodeSeed(this.o.spec.seed, ordinal, indexInGroup) : 0,
        ...(guidanceMessages?.length ? { guidanceMessages } : {}),
      },
      { gateway: this.o.gateway, logger: this.logger, signal },
    );
    this.metrics.episodes.inc({
      outcome: contracts.outcomeLevelToJSON(trajectory.outcome?.level ?? 0),
      failure: contracts.failureKindToJSON(trajectory.failure),
    });
    this.metrics.turns.observe(trajectory.turns.length);
    this.metrics.episodeSeconds.observe((Date.now() - started) / 1000);
    return trajectory;
  }

  /**
   * Agent-RLVR (spec.guidance): the group's attempts, guidance and re-attempts run first and
   * are published together, since the group's size is known only at the end. True when every
   * member was published.
   */
  private async runGuided(
    ordinal: number,
    groupId: string,
    version: number,
    task: ReturnType<BoundEnvironment["taskSource"]["at"]>,
    signal: AbortSignal,
  ): Promise<boolean> {
    const g = this.o.spec.guidance;
    const result = await runGuidedGroup({
      task,
      groupSize: this.o.spec.rollout.groupSize,
      policy: { trigger: g.trigger, maxRounds: g.maxRounds, successThreshold: g.successThreshold },
      providers: guidanceProviders(g, this.o.guidanceFetch),
      logger: this.logger,
      signal,
      runAttempt: async ({ indexInGroup, guidanceMessages }) => {
        this.episodeStarted();
        try {
          return await this.runOne(ordinal, groupId, version, task, indexInGroup, signal, guidanceMessages);
        } finally {
          this.episodeFinished();
        }
      },
    });
    this.guidanceMetrics?.record(result);
    let published = 0;
    for (const t of result.trajectories) if (await this.publish(t)) published++;
    // One line per group: pass rates by round can be read back from the log (bench, experiments).
    this.logger.info("guided group finished", {
      ordinal,
      groupId,
      firstAttempts: result.firstAttempts,
      firstPassed: result.firstPassed,
      reattempts: result.reattempts.filter((a) => !a.infra).length,
      reattemptsPassed: result.reattempts.filter((a) => a.passed).length,
      rounds: result.rounds,
      spanUnknown: result.reattempts.filter((a) => !a.spanKnown).length,
    });
    return published === result.trajectories.length;
  }

  private async runGroup(ordinal: number, version: number, signal: AbortSignal): Promise<void> {
    const { rollout } = this.o.spec;
    const task = this.env.taskSource.at(ordinal);
    const groupId = groupIdOf(ordinal);
    this.logger.debug("group admitted", { groupId, taskId: task.id, policyVersion: version });
    let published = 0;
    if (this.o.spec.guidance.enabled) {
      let complete = false;
      try {
        complete = await this.runGuided(ordinal, groupId, version, task, signal);
      } catch (err) {
        // Shutdown: a partial group is not published (another actor runs it again).
        if (!(err instanceof EpisodeAbortedError)) {
          this.logger.error("guided group crashed", { groupId, err: errorMessage(err) });
          void this.o.events.emit({ kind: "actor_episode_crashed", severity: "error", message: errorMessage(err) });
        }
      }
      if (signal.aborted && !complete) await this.releaseSlot(ordinal, groupId);
      else await this.completeSlot(ordinal, groupId);
      return;
    }
    const episodes = Array.from({ length: rollout.groupSize }, async (_, indexInGroup) => {
      this.episodeStarted();
      try {
        const trajectory = await this.runOne(ordinal, groupId, version, task, indexInGroup, signal);
        if (await this.publish(trajectory)) published++;
      } catch (err) {
        // Shutdown: a partial episode is not published (the group is abandoned).
        if (!(err instanceof EpisodeAbortedError)) throw err;
      } finally {
        this.episodeFinished();
      }
    });
    const results = await Promise.allSettled(episodes);
    for (const r of results) {
      if (r.status === "rejected") {
        this.logger.error("episode crashed", { groupId, err: errorMessage(r.reason) });
        void this.o.events.emit({ kind: "actor_episode_crashed", severity: "error", message: errorMessage(r.reason) });
      }
    }
    if (signal.aborted && published < rollout.groupSize) await this.releaseSlot(ordinal, groupId);
    else await this.completeSlot(ordinal, groupId);
  }

  private async releaseSlot(ordinal: number, groupId: string): Promise<void> {
    try {
      await this.admission.release(ordinal);
      this.logger.info("gave back an unfinished group for another actor to run", { groupId, ordinal });
    } catch (err) {
      this.logger.error("could not give back an unfinished group (its lease will expire)", {
        groupId,
        err: errorMessage(err),
      });
    }
  }

  private async completeSlot(ordinal: number, groupId: string): Promise<void> {
    try {
      await this.admission.complete(ordinal);
    } catch (err) {
      // Its lease expires and another actor runs it again: wasteful, not wrong.
      this.logger.error("could not mark a group complete", { groupId, err: errorMessage(err) });
    }
  }

  /**
   * Publishes with the trajectory id as Nats-Msg-Id, so retries are stored once. Training
   * trajectories count in the published metrics; evaluation ones (another subject) do not.
   */
  private async publish(t: contracts.Trajectory, subject = this.subject): Promise<boolean> {
    const data = contracts.Trajectory.encode(t).finish();
    let lastErr: unknown;
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
      try {
        const ack = await this.publisher.publish(subject, data, t.trajectoryId);
        if (ack.duplicate) this.metrics.publishDuplicates.inc();
        else if (subject === this.subject) {
          this.metrics.trajectoriesPublished.inc();
          this.published++;
        }
        return true;
      } catch (err) {
        lastErr = err;
        await sleep(200 * 2 ** attempt);
      }
    }
    this.metrics.publishFailures.inc();
    await this.o.events.emit({
      kind: "trajectory_publish_failed",
      severity: "error",
      message: `${t.trajectoryId}: ${errorMessage(lastErr)}`,
      attributes: { trajectoryId: t.trajectoryId, groupId: t.groupId },
    });
    return false;
  }

  private episodeStarted(): void {
    if (this.running === 0 && this.idleSince !== undefined) {
      this.idleMs += Date.now() - this.idleSince;
      this.idleSince = undefined;
    }
    this.running++;
    this.metrics.inFlightEpisodes.set(this.running);
  }

  private episodeFinished(): void {
    this.running--;
    if (this.running === 0) this.idleSince = Date.now();
    this.metrics.inFlightEpisodes.set(this.running);
  }

  private updateIdleRatio(): void {
    const now = Date.now();
    const elapsed = now - this.startedAt;
    if (elapsed <= 0) return;
    const idle = this.idleMs + (this.idleSince !== undefined ? now - this.idleSince : 0);
    this.metrics.idleRatio.set(idle / elapsed);
  }
}
