import assert from "node:assert/strict";
import { it } from "node:test";
import * as actor from "./index.js";

void it("exposes the actor's public API", () => {
  for (const name of [
    "Actor",
    "runEpisode",
    "canAdmit",
    "decideAdmission",
    "admissionLimit",
    "KvAdmissionStore",
    "EnvironmentRegistry",
    "defaultEnvironmentRegistry",
    "digitsEnvironment",
    "DigitsEnvironment",
    "DigitsTaskSource",
    "GatewayClient",
    "GatewayHttpError",
    "EnvironmentConfigError",
    "EnvironmentInfraError",
    "sweEnvironment",
    "SweEnvironment",
    "SweTaskSource",
  ]) {
    assert.ok(name in actor, `missing export ${name}`);
  }
});
