import { counter, gauge, histogram, type ServiceContext } from "@sluice/common";

// Types via common's helpers, so the actor does not depend on prom-client directly.
type Registry = ServiceContext["registry"];
type Counter = ReturnType<typeof counter>;
type Gauge = ReturnType<typeof gauge>;
type Histogram = ReturnType<typeof histogram>;

/** The actor's Prometheus metrics, registered once per process registry. */
export interface ActorMetrics {
  episodes: Counter;
  turns: Histogram;
  episodeSeconds: Histogram;
  groupsAdmitted: Counter;
  groupsReclaimed: Counter;
  admissionWaitSeconds: Counter;
  trajectoriesPublished: Counter;
  publishDuplicates: Counter;
  publishFailures: Counter;
  evaluationSamples: Counter;
  inFlightEpisodes: Gauge;
  idleRatio: Gauge;
  policyVersion: Gauge;
}

export function createActorMetrics(registry: Registry): ActorMetrics {
  return {
    episodes: counter(registry, "sluice_actor_episodes_total", "episodes finished, by outcome level and failure kind", [
      "outcome",
      "failure",
    ]),
    turns: histogram(
      registry,
      "sluice_actor_episode_turns",
      "policy turns per episode",
      [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
    ),
    episodeSeconds: histogram(
      registry,
      "sluice_actor_episode_duration_seconds",
      "wall time per episode",
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    ),
    groupsAdmitted: counter(registry, "sluice_actor_groups_admitted_total", "groups this actor admitted"),
    groupsReclaimed: counter(
      registry,
      "sluice_actor_groups_reclaimed_total",
      "groups this actor ran again because their actor's lease expired or they were given back",
    ),
    admissionWaitSeconds: counter(
      registry,
      "sluice_actor_admission_wait_seconds_total",
      "time spent blocked by the staleness bound waiting for a newer policy",
    ),
    trajectoriesPublished: counter(
      registry,
      "sluice_actor_trajectories_published_total",
      "trajectories acked by JetStream",
    ),
    publishDuplicates: counter(
      registry,
      "sluice_actor_publish_duplicates_total",
      "publishes JetStream dropped as duplicates",
    ),
    publishFailures: counter(
      registry,
      "sluice_actor_publish_failures_total",
      "trajectories that could not be published",
    ),
    evaluationSamples: counter(
      registry,
      "sluice_actor_evaluation_samples_total",
      "final-evaluation samples published (spec.evaluation), by whether they passed",
      ["result"],
    ),
    inFlightEpisodes: gauge(registry, "sluice_actor_inflight_episodes", "episodes running now"),
    idleRatio: gauge(
      registry,
      "sluice_actor_rollout_idle_ratio",
      "fraction of wall time since start with no episode running",
    ),
    policyVersion: gauge(registry, "sluice_actor_policy_version", "newest policy version the actor has seen"),
  };
}
