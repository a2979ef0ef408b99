import {
  decodeLabelSnapshotRequest,
  encodeLabelSnapshotMessage,
  errorMessage,
  experimentSubjects,
  type Logger,
  type NatsHandles,
} from "@sluice/common";
import type { KvLabelStore } from "./label-store.js";

/**
 * Answers the learner's checkpoint: snapshot the label store to a path next to the weights,
 * or restore it from one on resume (request-reply on `oniSnapshot` / `oniRestore`).
 */
export function serveLabelSnapshots(
  experiment: string,
  nats: NatsHandles,
  labels: Pick<KvLabelStore, "snapshot" | "restore" | "version">,
  logger: Logger,
): { stop(): void } {
  const s = experimentSubjects(experiment);
  const subs = (["snapshot", "restore"] as const).map((op) =>
    nats.nc.subscribe(op === "snapshot" ? s.oniSnapshot : s.oniRestore, {
      callback: (err, msg) => {
        if (err) {
          logger.warn("label snapshot subscription failed", { op, err: errorMessage(err) });
          return;
        }
        void (async () => {
          try {
            const { path } = decodeLabelSnapshotRequest(msg.data);
            const count =
              op === "snapshot" ? Object.keys((await labels.snapshot(path)).labels).length : await labels.restore(path);
            logger.info(`ONI labels ${op === "snapshot" ? "snapshotted" : "restored"}`, { path, labels: count });
            msg.respond(encodeLabelSnapshotMessage({ ok: true, version: labels.version, labels: count }));
          } catch (e) {
            logger.warn(`ONI label ${op} failed`, { err: errorMessage(e) });
            msg.respond(encodeLabelSnapshotMessage({ ok: false, error: errorMessage(e) }));
          }
        })();
      },
    }),
  );
  return { stop: () => subs.forEach((sub) => sub.unsubscribe()) };
}
