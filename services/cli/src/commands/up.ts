import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  EventPublisher,
  REPO_ROOT,
  SpecError,
  connectNats,
  createLogger,
  engineArgs,
  ensureExperimentStreams,
  errorMessage,
  experimentSubjects,
  grpcAddress,
  sleep,
  waitFor,
  withDeadline,
  type ExperimentManifest,
  type NatsHandles,
  type RuntimeConfig,
  type ServiceName,
  type contracts,
} from "@sluice/common";
import type { UpArgs } from "../args.js";
import { collectEpisodeStats, type EpisodeStats } from "../episode-stats.js";
import { runFinalEvaluationPhase, type EvaluationReport } from "../evaluation-export.js";
import { subjectMessages } from "../stream-reader.js";
import { ChildExitedError, InterruptedError, RunFailedError } from "../errors.js";
import { formatEvent, watchEvents, type EventWatcher } from "../event-watch.js";
import { LearnerStatusClient } from "../learner-status.js";
import { loadManifest } from "../manifest.js";
import { allocatePorts, buildRuntimeConfig, LOOPBACK } from "../ports.js";
import { createProgressWriter, RateMeter } from "../progress.js";
import { defaultRunDir } from "../run-dir.js";
import { scrapeMetrics } from "../service-metrics.js";
import { StallWatchdog } from "../stall-watchdog.js";
import { buildSummary, summaryLine, type RunExit } from "../summary.js";
import { Supervisor, type ChildSpec, type ManagedChild } from "../supervisor.js";
import { RestartPolicy } from "../restart-policy.js";
import { Restarter, type ComponentRestart } from "../restarter.js";
import { freePort } from "@sluice/common/internal";

const NATS_START_TIMEOUT_MS = 15_000;
// Importing torch and building the model is slow on a cold machine.
const ENGINE_HEALTH_TIMEOUT_MS = 120_000;
const SERVICE_HEALTH_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const POLL_INTERVAL_MS = 500;
const STATUS_CALL_TIMEOUT_MS = 2_000;
const EPISODE_STATS_TIMEOUT_MS = 30_000;
const METRICS_SCRAPE_TIMEOUT_MS = 3_000;
/** Reward-service series recorded in summary.json (reward_metrics). */
const REWARD_METRIC_PREFIXES: readonly string[] = ["sluice_reward_", "sluice_oni_"];
const TS_SERVICES_IN_ORDER: readonly ServiceName[] = ["sandbox", "gateway", "reward", "learner"];
/** nats-server holds every stream and connection: its death always ends the run. */
const NEVER_RESTARTED: ReadonlySet<string> = new Set(["nats-server"]);
/**
 * The learner loaded its checkpoint into the engine's memory: a fresh engine has the initial
 * weights, so the learner starts over too and resumes, loading the checkpoint into it.
 */
const RESTART_DEPENDENTS: Readonly<Record<string, readonly string[]>> = { engine: ["learner"] };

/**
 * A restarted actor runs under a new actor id (`actor-1-r2`): admission leases belong to an
 * actor id, so under the old one it would renew the leases of the groups its killed
 * predecessor was running, and nobody would ever run them again (the run stalls one step
 * short). Under a new id those leases expire and any actor reclaims the groups.
 */
function actorIncarnation(spec: ChildSpec, incarnation: number): ChildSpec {
  if (!spec.name.startsWith("actor-")) return spec;
  return { ...spec, env: { ...spec.env, SLUICE_ACTOR_ID: `${spec.name}-r${incarnation}` } };
}

/** `sluice up`: returns the process exit code (0, 1, 2 or 130). */
export async function runUp(args: UpArgs): Promise<number> {
  let manifest: ExperimentManifest;
  try {
    manifest = loadManifest(args.file, { steps: args.steps, seed: args.seed, maxRestarts: args.maxRestarts });
  } catch (err) {
    if (err instanceof SpecError) {
      process.stderr.write(err.message + "\n");
      return 2;
    }
    throw err;
  }
  const runDir = resolve(args.runDir ?? defaultRunDir(process.cwd(), manifest.metadata.name));
  return new UpRun(manifest, runDir, args).run();
}

/** One `sluice up` run: owns the children, the NATS connection and the outcome. */
class UpRun {
  private readonly experiment: string;
  private readonly logsDir: string;
  private readonly failure = new AbortController();
  private readonly supervisor: Supervisor;
  private readonly progress = createProgressWriter();
  private readonly startedAtMs = Date.now();
  private nats: NatsHandles | undefined;
  private events: EventWatcher | undefined;
  private learner: LearnerStatusClient | undefined;
  private lastStatus: contracts.GetStatusResponse | undefined;
  private evaluationReport: EvaluationReport | undefined;
  /** Actors that reported the end of their final evaluation (finished or failed). */
  private readonly evaluationDone = new Set<string>();
  private runtimeConfig: RuntimeConfig | undefined;
  private signals = 0;
  private readonly restartPolicy: RestartPolicy;
  private readonly restarter: Restarter;
  /** Aborted once the run ends (any way): restarts still waiting for their backoff are dropped. */
  private readonly ending = new AbortController();
  private cliEvents: EventPublisher | undefined;
  /** Restarts per component, for summary.json (dependents restarted with another count too). */
  private readonly restartCounts: Record<string, number> = {};
  /** gRPC address of each actor (each has its own port). */
  private readonly actorAddresses = new Map<string, string>();

  constructor(
    private readonly manifest: ExperimentManifest,
    private readonly runDir: string,
    private readonly args: UpArgs,
  ) {
    this.experiment = manifest.metadata.name;
    this.logsDir = join(runDir, "logs");
    this.restartPolicy = new RestartPolicy(manifest.spec.restart, NEVER_RESTARTED);
    this.supervisor = new Supervisor({
      onUnexpectedExit: (child, err) => this.restarter.handleExit(child, err),
    });
    this.restarter = new Restarter({
      supervisor: this.supervisor,
      policy: this.restartPolicy,
      healthAddress: (name) => this.healthAddress(name),
      healthTimeoutMs: (name) => (name === "engine" ? ENGINE_HEALTH_TIMEOUT_MS : SERVICE_HEALTH_TIMEOUT_MS),
      dependents: RESTART_DEPENDENTS,
      stopGraceMs: STOP_GRACE_MS,
      signal: this.ending.signal,
      respec: (spec, incarnation) => actorIncarnation(spec, incarnation),
      onRestarted: (r) => this.restarted(r),
      onGiveUp: (err) => this.fail(err),
    });
    this.failure.signal.addEventListener("abort", () => this.ending.abort(), { once: true });
  }

  async run(): Promise<number> {
    const onSignal = (sig: NodeJS.Signals): void => {
      this.signals += 1;
      if (this.signals > 1) {
        // A second Ctrl-C means "now": no more waiting on graceful shutdown.
        this.progress.note("sluice: second signal, killing everything");
        this.supervisor.killAllNow();
        process.exit(130);
      }
      this.fail(new InterruptedError(sig));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);

    let exit: RunExit = "completed";
    let error: string | undefined;
    try {
      await this.start();
      await this.monitor();
      await this.evaluate();
    } catch (err) {
      if (err instanceof InterruptedError) exit = "interrupted";
      else {
        exit = "failed";
        error = errorMessage(err);
      }
    }
    this.ending.abort();
    this.progress.finish();
    if (error !== undefined) process.stderr.write(`sluice: ${error}\n`);
    if (exit === "interrupted") process.stderr.write("sluice: interrupted, stopping services\n");

    const published = await this.trajectoriesPublished();
    const episodes = await this.episodeStats();
    const rewardMetrics = await this.rewardMetrics();
    await this.shutdown();
    const summary = buildSummary({
      experiment: this.experiment,
      runDir: this.runDir,
      status: this.lastStatus,
      trajectoriesPublished: published,
      rewardRejections: this.events?.rejections ?? {},
      startedAtMs: this.startedAtMs,
      endedAtMs: Date.now(),
      exit,
      ...(error !== undefined ? { error } : {}),
      ...(episodes !== undefined ? { episodes } : {}),
      ...(rewardMetrics !== undefined ? { rewardMetrics } : {}),
      ...(this.evaluationReport !== undefined ? { evaluation: this.evaluationReport } : {}),
      componentRestarts: this.restartCounts,
    });
    writeFileSync(join(this.runDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
    process.stdout.write(summaryLine(summary) + "\n");
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    return exit === "completed" ? 0 : exit === "interrupted" ? 130 : 1;
  }

  /** First failure wins; everything waiting on `failure.signal` rejects with it. */
  private fail(err: Error): void {
    if (!this.failure.signal.aborted) this.failure.abort(err);
  }

  /** Resolves like `p` unless the run fails first. */
  private guard<T>(p: Promise<T>): Promise<T> {
    const signal = this.failure.signal;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolvePromise, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolvePromise(v);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private note(line: string): void {
    this.progress.note(line);
  }

  private async start(): Promise<void> {
    mkdirSync(this.logsDir, { recursive: true });
    writeFileSync(join(this.runDir, "spec.json"), JSON.stringify(this.manifest, null, 2) + "\n");
    const ports = await allocatePorts();
    const runtime = buildRuntimeConfig(this.manifest, this.runDir, ports);
    this.runtimeConfig = runtime;
    const runtimePath = join(this.runDir, "runtime.json");
    writeFileSync(runtimePath, JSON.stringify(runtime, null, 2) + "\n");
    this.note(`sluice: run dir ${this.runDir}`);

    await this.startNats(ports.nats, runtime.natsUrl);
    await this.startEngine(runtime);
    for (const name of TS_SERVICES_IN_ORDER)
      await this.startTsService(name, name, runtimePath, runtime.services[name].grpcPort);
    await this.startActors(runtime, runtimePath);
  }

  /** A restarted component: new pid in pids.json, a line, a log record, an event, a count. */
  private restarted(r: ComponentRestart): void {
    this.recordPids();
    this.restartCounts[r.component] = (this.restartCounts[r.component] ?? 0) + 1;
    const why = r.dependentOf !== undefined ? `${r.reason}` : `${r.reason}; restart ${r.attempt}`;
    this.note(`sluice: restarted ${r.component} as pid ${r.pid ?? "?"} after ${r.delayMs} ms (${why})`);
    void this.cliEvents?.emit({
      kind: "component_restarted",
      severity: "warning",
      message: `${r.component} restarted (${why})`,
      attributes: {
        restarted_component: r.component,
        reason: r.reason,
        ...(r.dependentOf !== undefined ? { dependent_of: r.dependentOf } : {}),
      },
      values: { pid: r.pid ?? 0, previous_pid: r.previousPid ?? 0, attempt: r.attempt, delay_ms: r.delayMs },
    });
  }

  /** gRPC health address of a started component (nats-server has none). */
  private healthAddress(name: string): string | undefined {
    const runtime = this.runtimeConfig;
    if (!runtime) return undefined;
    if (name === "engine") return grpcAddress(runtime.services.engine);
    if (name.startsWith("actor-")) return this.actorAddresses.get(name);
    const service = (TS_SERVICES_IN_ORDER as readonly string[]).includes(name) ? (name as ServiceName) : undefined;
    return service ? `${LOOPBACK}:${runtime.services[service].grpcPort}` : undefined;
  }

  private async startNats(port: number, url: string): Promise<void> {
    const storeDir = join(this.runDir, "nats");
    mkdirSync(storeDir, { recursive: true });
    const t0 = Date.now();
    this.supervisor.start({
      name: "nats-server",
      command: process.env["SLUICE_NATS_SERVER"] ?? "nats-server",
      args: ["-a", LOOPBACK, "-p", String(port), "-js", "-sd", storeDir],
      logFile: join(this.logsDir, "nats.log"),
      stopLast: true,
    });
    this.nats = await this.guard(
      waitFor(
        async () => {
          try {
            return await connectNats(url, "sluice-cli", 1_000);
          } catch {
            return undefined;
          }
        },
        NATS_START_TIMEOUT_MS,
        `nats-server accepting connections on ${url}`,
        100,
      ),
    );
    const streams = await this.guard(
      withDeadline(ensureExperimentStreams(this.nats.jsm, this.experiment), 10_000, "creating JetStream streams"),
    );
    for (const s of streams.filter((x) => x.reduced)) {
      this.note(
        `sluice: stream ${s.name} reserves ${(s.maxBytes / 1024 ** 2).toFixed(0)} MiB (the disk has too little for more)`,
      );
    }
    // The CLI's own records (restarts) go to logs/cli.log and the events subject.
    const cliLog = join(this.logsDir, "cli.log");
    const logger = createLogger({
      experiment: this.experiment,
      component: "cli",
      write: (line) => appendFileSync(cliLog, line + "\n"),
    });
    this.cliEvents = new EventPublisher(this.nats, this.experiment, "cli", logger);
    this.events = watchEvents(
      this.nats.nc,
      this.experiment,
      (e, verdict) => {
        if (verdict.show && e.component !== "cli") this.note(formatEvent(e));
        if (e.kind === "evaluation_finished" || e.kind === "evaluation_failed")
          this.evaluationDone.add(e.attributes["actorId"] ?? "");
        if (verdict.fatal)
          this.fail(
            new RunFailedError(
              `${e.component} ${e.kind.replace(/_/g, " ")}: ${e.message}; see ${join(this.logsDir, `${e.component}.log`)}`,
            ),
          );
      },
      { restartsAllowed: this.manifest.spec.restart.maxRestarts > 0 },
    );
    this.note(`sluice: nats-server ready on ${url} (${Date.now() - t0} ms)`);
  }

  private async startEngine(runtime: RuntimeConfig): Promise<void> {
    const endpoint = runtime.services.engine;
    const python = process.env["SLUICE_PYTHON"] ?? join(REPO_ROOT, ".venv", "bin", "python");
    if (!existsSync(python)) throw new RunFailedError(`engine python ${python} not found; run scripts/bootstrap.sh`);
    await this.startAndWait(
      {
        name: "engine",
        command: python,
        args: engineArgs(this.manifest.spec, this.experiment, endpoint),
        cwd: REPO_ROOT,
        env: { ...process.env, PYTHONUNBUFFERED: "1" },
        logFile: join(this.logsDir, "engine.log"),
      },
      grpcAddress(endpoint),
      ENGINE_HEALTH_TIMEOUT_MS,
    );
  }

  private async startTsService(
    service: ServiceName,
    name: string,
    runtimePath: string,
    grpcPort: number,
    env: NodeJS.ProcessEnv = {},
  ): Promise<void> {
    const main = join(REPO_ROOT, "services", service, "dist", "main.js");
    if (!existsSync(main)) throw new RunFailedError(`${main} not found; build with npx tsc -b`);
    await this.startAndWait(
      {
        name,
        command: process.execPath,
        args: [main, "--runtime", runtimePath],
        cwd: REPO_ROOT,
        // Services resolve spec-relative paths (task sets, cache dirs) against the spec's directory.
        env: { ...process.env, SLUICE_SPEC_DIR: dirname(resolve(this.args.file)), ...env },
        logFile: join(this.logsDir, `${name}.log`),
      },
      `${LOOPBACK}:${grpcPort}`,
      SERVICE_HEALTH_TIMEOUT_MS,
    );
  }

  /**
   * Actor i > 0 gets its own runtime file whose actor endpoint has fresh ports: every
   * actor runs a gRPC and metrics server, and they cannot share one port.
   */
  private async startActors(runtime: RuntimeConfig, runtimePath: string): Promise<void> {
    for (let i = 0; i < this.manifest.spec.rollout.actors; i++) {
      let path = runtimePath;
      let grpcPort = runtime.services.actor.grpcPort;
      if (i > 0) {
        grpcPort = await freePort();
        const own: RuntimeConfig = {
          ...runtime,
          services: { ...runtime.services, actor: { host: LOOPBACK, grpcPort, metricsPort: await freePort() } },
        };
        path = join(this.runDir, `runtime.actor-${i}.json`);
        writeFileSync(path, JSON.stringify(own, null, 2) + "\n");
      }
      this.actorAddresses.set(`actor-${i}`, `${LOOPBACK}:${grpcPort}`);
      await this.startTsService("actor", `actor-${i}`, path, grpcPort, {
        SLUICE_ACTOR_ID: `actor-${i}`,
        SLUICE_ACTOR_INDEX: String(i),
      });
    }
  }

  /** pids.json lets tests (and people) check that no process outlives the run. */
  private recordPids(): void {
    const pids: Record<string, number> = {};
    for (const c of this.supervisor.started) if (c.pid !== undefined) pids[c.name] = c.pid;
    // Rewritten on every restart while tests and people read it: never show a torn file.
    const path = join(this.runDir, "pids.json");
    writeFileSync(`${path}.tmp`, JSON.stringify(pids, null, 2) + "\n");
    renameSync(`${path}.tmp`, path);
  }

  private async startAndWait(
    spec: Parameters<Supervisor["start"]>[0],
    address: string,
    timeoutMs: number,
  ): Promise<ManagedChild> {
    const t0 = Date.now();
    const child = this.supervisor.start(spec);
    this.recordPids();
    try {
      await this.guard(this.supervisor.waitHealthy(child, address, timeoutMs));
    } catch (err) {
      // These already say which child and where its log is.
      if (err instanceof InterruptedError || err instanceof RunFailedError || err instanceof ChildExitedError)
        throw err;
      throw new RunFailedError(
        `${spec.name} did not become healthy: ${errorMessage(err)}; see ${spec.logFile ?? "its output"}`,
        {
          cause: err,
        },
      );
    }
    this.note(`sluice: ${spec.name} ready on ${address} (${Date.now() - t0} ms)`);
    return child;
  }

  /** Polls GetStatus until finished; the watchdog and failure signal end it early. */
  private async monitor(): Promise<void> {
    const spec = this.manifest.spec;
    this.learner = new LearnerStatusClient(grpcAddress(this.runtime().services.learner));
    const watchdog = new StallWatchdog(spec.watchdog.stallTimeoutMs, Date.now());
    const rate = new RateMeter(10_000);
    let lastError: string | undefined;
    for (;;) {
      if (this.failure.signal.aborted) throw this.failure.signal.reason as Error;
      try {
        const status = await this.guard(this.learner.get(STATUS_CALL_TIMEOUT_MS));
        this.lastStatus = status;
        lastError = undefined;
        rate.add(Date.now(), Number(status.trajectoriesTrained));
        this.progress.update({
          step: Number(status.step),
          totalSteps: spec.steps,
          reward: status.rewardMeanByStep[status.rewardMeanByStep.length - 1],
          policyVersion: status.policyVersion,
          trajPerSecond: rate.rate(),
        });
        if (status.finished) return;
      } catch (err) {
        if (this.failure.signal.aborted) throw this.failure.signal.reason as Error;
        // Transient (learner busy or restarting); the stall watchdog bounds how long we wait.
        const msg = errorMessage(err);
        if (msg !== lastError) this.note(`sluice: learner status unavailable: ${msg}`);
        lastError = msg;
      }
      const stalled = watchdog.observe(Number(this.lastStatus?.step ?? -1), Date.now());
      if (stalled !== undefined) throw new RunFailedError(stalled);
      await sleep(POLL_INTERVAL_MS, this.failure.signal);
    }
  }

  /**
   * spec.evaluation: the actors sample the final policy on held-out tasks once the learner is
   * done; wait for their samples (bounded by evaluation.deadlineMs) and write
   * eval-samples.jsonl. Missing samples are reported, not waited on forever.
   */
  private async evaluate(): Promise<void> {
    if (!this.manifest.spec.evaluation.enabled || !this.nats) return;
    const actors = this.manifest.spec.rollout.actors;
    this.evaluationReport = await this.guard(
      runFinalEvaluationPhase(this.nats, {
        experiment: this.experiment,
        evaluation: this.manifest.spec.evaluation,
        path: join(this.runDir, "eval-samples.jsonl"),
        readTimeoutMs: EPISODE_STATS_TIMEOUT_MS,
        actorsDone: () => this.evaluationDone.size >= actors,
        signal: this.failure.signal,
        note: (line) => this.note(line),
      }),
    );
  }

  private runtime(): RuntimeConfig {
    if (!this.runtimeConfig) throw new RunFailedError("internal: runtime config used before start");
    return this.runtimeConfig;
  }

  /** Training trajectories in the trajectory stream: deduplicated by Nats-Msg-Id on publish. */
  private async trajectoriesPublished(): Promise<number | undefined> {
    if (!this.nats) return undefined;
    try {
      const names = experimentSubjects(this.experiment);
      return await subjectMessages(this.nats, names.trajStream, names.traj, 5_000);
    } catch {
      return undefined;
    }
  }

  /** How episodes ended (done reasons, outcome levels, failures), for summary.json. */
  private async episodeStats(): Promise<EpisodeStats | undefined> {
    if (!this.nats) return undefined;
    try {
      return await collectEpisodeStats(this.nats, this.experiment, EPISODE_STATS_TIMEOUT_MS);
    } catch {
      return undefined;
    }
  }

  /** The reward service's final counters (CR/MR/RR, gates, ONI annotator), for summary.json. */
  private async rewardMetrics(): Promise<Record<string, number> | undefined> {
    const reward = this.runtimeConfig?.services.reward;
    if (!reward) return undefined;
    try {
      const url = `http://${reward.host}:${reward.metricsPort}/metrics`;
      return await scrapeMetrics(url, REWARD_METRIC_PREFIXES, METRICS_SCRAPE_TIMEOUT_MS);
    } catch (err) {
      process.stderr.write(`sluice: reward metrics not recorded: ${errorMessage(err)}\n`);
      return undefined;
    }
  }

  private async shutdown(): Promise<void> {
    this.learner?.close();
    this.events?.stop();
    // Services first (they drain through NATS), nats-server last.
    await this.supervisor.stopAll(STOP_GRACE_MS, async () => {
      // Close our connection before nats-server goes, or the client retries forever.
      await this.nats?.close().catch(() => undefined);
    });
    if (!this.args.keepNatsStore) rmSync(join(this.runDir, "nats"), { recursive: true, force: true });
  }
}
