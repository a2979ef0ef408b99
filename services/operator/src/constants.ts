/** Every name the operator writes into the cluster, in one place. */
export const GROUP = "sluice.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "RLExperiment";
export const PLURAL = "rlexperiments";

/** The one field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = "sluice-operator";
/** Guards what garbage collection cannot remove: the experiment's NATS streams, KV and object buckets. */
export const FINALIZER = "sluice.dev/nats-streams";

export const LABELS = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  managedBy: "app.kubernetes.io/managed-by",
  partOf: "app.kubernetes.io/part-of",
  experiment: "sluice.dev/experiment",
} as const;

export const MANAGED_BY = "sluice-operator";

export const CONDITION_TYPES = {
  admitted: "Admitted",
  componentsReady: "ComponentsReady",
  progressing: "Progressing",
  degraded: "Degraded",
  suspended: "Suspended",
  complete: "Complete",
  failed: "Failed",
} as const;
export type ConditionType = (typeof CONDITION_TYPES)[keyof typeof CONDITION_TYPES];

/** Condition reasons (CamelCase, as Kubernetes API conventions ask). */
export const REASONS = {
  specValid: "SpecValid",
  invalidSpec: "InvalidSpec",
  allComponentsReady: "AllComponentsReady",
  componentsNotReady: "ComponentsNotReady",
  starting: "Starting",
  training: "Training",
  suspendRequested: "SuspendRequested",
  notSuspended: "NotSuspended",
  resumed: "Resumed",
  asExpected: "AsExpected",
  natsUnavailable: "NatsUnavailable",
  applyFailed: "ApplyFailed",
  componentFailing: "ComponentFailing",
  learnerSucceeded: "LearnerSucceeded",
  learnerFailed: "LearnerFailed",
  finished: "Finished",
  running: "Running",
} as const;

/** Kubernetes Event reasons the operator records. */
export const EVENT_REASONS = {
  created: "ChildrenApplied",
  conditionChanged: "ConditionChanged",
  streamsCreated: "StreamsCreated",
  streamsRemoved: "StreamsRemoved",
  finalizerDeadline: "FinalizerDeadlineExceeded",
  reconcileError: "ReconcileError",
} as const;

export const METRICS = {
  reconciles: "sluice_operator_reconciles_total",
  reconcileDuration: "sluice_operator_reconcile_duration_seconds",
  queueDepth: "sluice_operator_queue_depth",
  lastInformerEvent: "sluice_operator_informer_last_event_timestamp_seconds",
  informerRelists: "sluice_operator_informer_relists_total",
  isLeader: "sluice_operator_is_leader",
} as const;
