import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as common from "./index.js";

// Other services build on these names; changing the list is an API change.
void describe("@sluice/common public exports", () => {
  void it("exports exactly the pinned names", () => {
    assert.deepEqual(Object.keys(common).sort(), [
      "BLOB_HEADER",
      "CLIENT_OPTIONS",
      "ConsumerPump",
      "DeadlineError",
      "DedupePublisher",
      "EventPublisher",
      "GrpcEngineClient",
      "KV_KEYS",
      "PROTO_ROOT",
      "REPO_ROOT",
      "RpcError",
      "SluiceError",
      "SpecError",
      "TransportError",
      "ValidationError",
      "algorithmSchema",
      "argValue",
      "connectNats",
      "contracts",
      "counter",
      "createLogger",
      "createMetricsRegistry",
      "decodeEvent",
      "decodeScoredTrajectory",
      "decodeTrajectory",
      "ensureDurableConsumer",
      "ensureExperimentStreams",
      "ensureStream",
      "errorMessage",
      "experimentManifestSchema",
      "experimentSpecSchema",
      "experimentSubjects",
      "fetchBatch",
      "gauge",
      "grpcAddress",
      "histogram",
      "insecure",
      "isValidExperimentName",
      "learnerSchema",
      "loadExperimentManifest",
      "loadRuntimeConfig",
      "modelSchema",
      "nanos",
      "openKv",
      "openObjectStore",
      "optimizerSchema",
      "packFloat32",
      "packInt32",
      "packUint8",
      "parseExperimentManifest",
      "resolvePayload",
      "rewardSchema",
      "rolloutSchema",
      "runService",
      "sandboxSchema",
      "severityName",
      "sleep",
      "startGrpcServer",
      "startMetricsServer",
      "unaryCall",
      "unaryHandler",
      "unpackFloat32",
      "unpackInt32",
      "unpackUint8",
      "validateTrajectory",
      "waitFor",
      "watchdogSchema",
      "withDeadline",
    ]);
  });

  void it("re-exports the generated contracts under `contracts`", () => {
    for (const name of [
      "Trajectory",
      "ScoredTrajectory",
      "Event",
      "OutcomeLevel",
      "FailureKind",
      "RewardServiceService",
    ]) {
      assert.ok(name in common.contracts, `contracts.${name} missing`);
    }
  });
});
