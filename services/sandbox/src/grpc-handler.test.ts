import { test } from "node:test";
import assert from "node:assert/strict";
import { SluiceError, ValidationError } from "@sluice/common";
import { SandboxCapacityError, SandboxNotFoundError } from "./errors.js";
import { grpcStatusOf } from "./grpc-handler.js";

void test("maps sandbox errors to their own gRPC status and others by type", () => {
  assert.equal(grpcStatusOf(new SandboxNotFoundError("x")), 5);
  assert.equal(grpcStatusOf(new SandboxCapacityError(3)), 8);
  assert.equal(grpcStatusOf(new ValidationError("bad")), 3);
  assert.equal(grpcStatusOf(new SluiceError("flaky", { retryable: true })), 14);
  assert.equal(grpcStatusOf(new Error("boom")), 13);
  assert.equal(grpcStatusOf(Object.assign(new Error("errno"), { code: "ENOENT" })), 13);
});
