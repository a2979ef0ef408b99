import { errorMessage, type Logger } from "@sluice/common";
import type { OperatorConfig } from "./config.js";
import type { Clock } from "./controller/clock.js";
import { Controller } from "./controller/controller.js";
import { DEFAULT_LEASE_TIMINGS, LeaderElector } from "./controller/leader-election.js";
import type { RateLimiterOptions } from "./controller/rate-limiter.js";
import { TYPES } from "./kube/resources.js";
import type { KubeApi } from "./kube/types.js";
import type { OperatorMetrics } from "./metrics.js";
import { EventRecorder } from "./reconcile/events.js";
import type { ProgressSource } from "./reconcile/progress.js";
import { Reconciler } from "./reconcile/reconciler.js";
import type { ExperimentStreams } from "./reconcile/streams.js";

export interface OperatorOptions {
  api: KubeApi;
  streams: ExperimentStreams;
  progress: ProgressSource;
  clock: Clock;
  logger: Logger;
  config: OperatorConfig;
  identity: string;
  /** Where the leader Lease lives (the operator's own namespace). */
  leaseNamespace: string;
  leaseName?: string;
  leaseTimings?: Partial<typeof DEFAULT_LEASE_TIMINGS>;
  metrics?: OperatorMetrics;
  workers?: number;
  stallMs?: number;
  rateLimits?: RateLimiterOptions;
  /** false: no Lease, this replica reconciles at once (one replica only). Default true. */
  leaderElection?: boolean;
  /** Called after this replica lost the lease (main exits so that a fresh process campaigns again). */
  onLostLeadership?: () => void;
}

export interface OperatorHandle {
  isLeader(): boolean;
  /** Readiness: a standby is ready; a leader once every informer has synced. */
  ready(): boolean;
  /** The running controller while leading (tests look at its queue). */
  controller(): Controller | undefined;
  /** Stops reconciling; `release` hands the lease over at once (graceful), false models a crash. */
  stop(release?: boolean): Promise<void>;
}

/**
 * One operator replica: campaigns for the Lease and runs the controller only while it leads,
 * so two replicas never reconcile the same experiment at once.
 */
export function startOperator(o: OperatorOptions): OperatorHandle {
  let controller: Controller | undefined;
  let starting: Promise<void> | undefined;
  const events = new EventRecorder(o.api, o.logger, o.identity, () => o.clock.now());
  let jobSets: boolean | undefined;
  const useJobSet = async (): Promise<boolean> => (jobSets ??= await o.api.serves(TYPES.jobSet));
  const reconciler = new Reconciler({
    api: o.api,
    streams: o.streams,
    progress: o.progress,
    events,
    clock: o.clock,
    config: o.config,
    logger: o.logger,
    useJobSet,
  });
  const elector = new LeaderElector({
    api: o.api,
    clock: o.clock,
    logger: o.logger,
    namespace: o.leaseNamespace,
    leaseName: o.leaseName ?? "sluice-operator",
    identity: o.identity,
    ...DEFAULT_LEASE_TIMINGS,
    ...o.leaseTimings,
    onStartedLeading: () => startLeading(),
    onStoppedLeading: () => {
      o.metrics?.isLeader.set(0);
      void (async () => {
        await starting;
        await controller?.stop();
        controller = undefined;
        o.onLostLeadership?.();
      })();
    },
  });

  function startLeading(): void {
    o.metrics?.isLeader.set(1);
    starting = (async () => {
      try {
        const js = await useJobSet();
        controller = new Controller({
          api: o.api,
          reconciler,
          clock: o.clock,
          logger: o.logger,
          metrics: o.metrics,
          namespace: o.config.watchNamespace,
          workers: o.workers ?? 2,
          stallMs: o.stallMs ?? 150_000,
          jobSets: js,
          rateLimits: o.rateLimits,
        });
        controller.start();
      } catch (err) {
        o.logger.error("controller failed to start", { err: errorMessage(err) });
        jobSets = undefined;
      }
    })();
  }
  const elected = o.leaderElection ?? true;
  if (elected) elector.start();
  else startLeading();
  return {
    isLeader: () => (elected ? elector.isLeader() : true),
    ready: () => (elected && !elector.isLeader()) || (controller?.hasSynced() ?? false),
    controller: () => controller,
    stop: async (release = true) => {
      if (elected) await elector.stop(release);
      await starting;
      await controller?.stop();
      controller = undefined;
    },
  };
}
