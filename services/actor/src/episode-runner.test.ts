import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { contracts, unpackFloat32, unpackInt32, validateTrajectory } from "@sluice/common";
import type { BoundEnvironment } from "./environment.js";
import { defaultEnvironmentRegistry } from "./environments/registry.js";
import { EpisodeAbortedError } from "./errors.js";
import { episodeSeed, runEpisode, type EpisodeSpec } from "./episode-runner.js";
import { GatewayClient } from "./gateway-client.js";
import { countingScript, startFakeGateway, type FakeGateway, type FakeScript } from "./testing/fake-gateway.js";

const { FailureKind, OutcomeLevel } = contracts;

// Digits runs no tools: the per-call result fields keep their zero values.
const NO_RESULT = { exitCode: 0, outputTruncated: false, elapsedMs: 0 };

const gateways: FakeGateway[] = [];
after(async () => {
  await Promise.all(gateways.map((g) => g.close()));
});

async function setup(script: FakeScript, overrides: Partial<EpisodeSpec> = {}, requestTimeoutMs = 5_000) {
  const gw = await startFakeGateway(script);
  gateways.push(gw);
  const environment: BoundEnvironment = defaultEnvironmentRegistry().bind("digits", {}, 1);
  const spec: EpisodeSpec = {
    experiment: "exp",
    actorId: "actor-0",
    groupId: "actor-0-g0-abc",
    groupSize: 2,
    indexInGroup: 1,
    task: { id: "digits-1-0", payload: { start: 3 } },
    environment,
    admittedPolicyVersion: 2,
    maxTurns: 8,
    episodeTimeoutMs: 5_000,
    sampling: { maxTokens: 4, temperature: 1, topP: 1 },
    seed: 5,
    ...overrides,
  };
  const gateway = new GatewayClient({ baseUrl: gw.url, model: "policy", requestTimeoutMs });
  return { gw, spec, gateway };
}

void describe("runEpisode", () => {
  void it("runs each attempt in its own gateway session and frees that session", async () => {
    const { gw, spec, gateway } = await setup(countingScript);
    const first = await runEpisode(spec, { gateway });
    const again = await runEpisode(spec, { gateway });
    // A slot run again reuses the trajectory id (Nats-Msg-Id dedupe) but never the session.
    assert.equal(again.trajectoryId, first.trajectoryId);
    const sessions = [...new Set(gw.requests.map((r) => r.sluice_session_id))];
    assert.equal(sessions.length, 2);
    assert.ok(sessions.every((s) => s?.startsWith(`${first.trajectoryId}.`)));
    assert.deepEqual([...gw.deletedSessions].sort(), [...sessions].sort());
  });

  void it("plays a full digits episode and round-trips token fields into the Turns", async () => {
    const script: FakeScript = (call) => ({
      ...(countingScript(call) as { content: string }),
      observationTokenIds: [100 + call.turn, 200 + call.turn],
      actionTokenIds: [10 + call.turn],
      actionLogprobs: [-0.5 - call.turn],
      actionPolicyVersions: [2 + call.turn],
      finishReason: "stop",
    });
    const { gw, spec, gateway } = await setup(script);
    const t = await runEpisode(spec, { gateway });
    validateTrajectory(t);
    assert.equal(t.trajectoryId, "actor-0-g0-abc-1");
    assert.equal(t.groupId, "actor-0-g0-abc");
    assert.equal(t.indexInGroup, 1);
    assert.equal(t.groupSize, 2);
    assert.equal(t.taskId, "digits-1-0");
    // Every turn is seeded, each with its own seed, the same on a replay of the episode.
    const seeds = gw.requests.map((r) => r.seed);
    assert.equal(new Set(seeds).size, seeds.length);
    assert.ok(seeds.every((s) => typeof s === "number" && s > 0));
    assert.ok(gw.requests.every((r) => r.sluice_interruptible === undefined));
    assert.equal(t.environment, "digits");
    assert.equal(t.admittedPolicyVersion, 2);
    assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_RESOLVED);
    assert.equal(t.outcome?.score, 1);
    assert.equal(t.turns.length, 3);
    t.turns.forEach((turn, i) => {
      assert.deepEqual(unpackInt32(turn.observationTokenIds), [100 + i, 200 + i]);
      assert.deepEqual(unpackInt32(turn.actionTokenIds), [10 + i]);
      assert.deepEqual(unpackFloat32(turn.actionLogprobs), [-0.5 - i]);
      assert.deepEqual(unpackInt32(turn.actionPolicyVersions), [2 + i]);
      assert.equal(turn.finishReason, "stop");
      assert.ok(turn.finishedAtMs >= turn.startedAtMs);
    });
    assert.deepEqual(
      t.turns.map((x) => x.actionText),
      ["4", "5", "6"],
    );
    assert.deepEqual(
      t.turns.map((x) => x.observationText),
      ["count up by one\n3", "4", "5"],
    );
    assert.deepEqual(t.outcome?.turnScores, [1 / 3, 1 / 3, 1 / 3]);
    // Every call carries the whole conversation and the trajectory id as session id.
    assert.equal(gw.requests.length, 3);
    assert.equal(new Set(gw.requests.map((r) => r.sluice_session_id)).size, 1, "one session per episode");
    assert.ok(gw.requests[0]!.sluice_session_id?.startsWith(`${t.trajectoryId}.`));
    assert.deepEqual(
      gw.requests[2]?.messages.map((m) => [m.role, m.content]),
      [
        ["system", "count up by one"],
        ["user", "3"],
        ["assistant", "4"],
        ["user", "4"],
        ["assistant", "5"],
        ["user", "5"],
      ],
    );
    assert.deepEqual(gw.deletedSessions, [gw.requests[0]!.sluice_session_id]);
    // It survives the wire.
    const decoded = contracts.Trajectory.decode(contracts.Trajectory.encode(t).finish());
    assert.deepEqual(unpackInt32(decoded.turns[1]!.actionTokenIds), [11]);
  });

  void it("partial rollouts ask the gateway for interruptible generations", async () => {
    const { gw, spec, gateway } = await setup(countingScript, {
      sampling: { maxTokens: 4, temperature: 1, topP: 1, interruptible: true },
    });
    await runEpisode(spec, { gateway });
    assert.ok(gw.requests.length > 0);
    assert.ok(gw.requests.every((r) => r.sluice_interruptible === true));
  });

  void it("an unseeded episode (seed 0) sends no seed", async () => {
    const { gw, spec, gateway } = await setup(countingScript, { seed: 0 });
    await runEpisode(spec, { gateway });
    assert.ok(gw.requests.length > 0);
    assert.ok(gw.requests.every((r) => r.seed === undefined));
  });

  void it("episode seeds are a pure function of (experiment seed, group ordinal, member)", () => {
    assert.equal(episodeSeed(1, 7, 3), episodeSeed(1, 7, 3));
    const seeds = new Set<number>();
    for (let g = 0; g < 16; g++) for (let m = 0; m < 16; m++) seeds.add(episodeSeed(1, g, m));
    assert.equal(seeds.size, 256);
    assert.notEqual(episodeSeed(1, 0, 0), episodeSeed(2, 0, 0));
  });

  void it("records tool calls, valid and invalid", async () => {
    const { spec, gateway } = await setup(() => ({
      content: null,
      toolCalls: [{ id: "c1", type: "function", function: { name: "run", arguments: '{"cmd":"ls"}' } }],
      toolCallErrors: [{ raw: "{oops", error: "invalid JSON" }],
      finishReason: "tool_calls",
    }));
    const t = await runEpisode({ ...spec, maxTurns: 1 }, { gateway });
    assert.deepEqual(t.turns[0]?.toolCalls, [
      { ...NO_RESULT, id: "c1", name: "run", argumentsJson: '{"cmd":"ls"}', valid: true, error: "" },
      { ...NO_RESULT, id: "", name: "", argumentsJson: "{oops", valid: false, error: "invalid JSON" },
    ]);
  });

  void it("stops at maxTurns with the environment's unfinished outcome", async () => {
    const { spec, gateway } = await setup(countingScript);
    const t = await runEpisode({ ...spec, maxTurns: 2 }, { gateway });
    assert.equal(t.turns.length, 2);
    assert.equal(t.failure, FailureKind.FAILURE_KIND_NONE);
    assert.equal(t.outcome?.level, OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT);
    assert.equal(t.outcome?.submitted, false);
    assert.equal(t.metadata.truncated, "max_turns");
  });

  void it("turns a gateway 503 into an INFERENCE_ERROR trajectory with the turns so far", async () => {
    const { gw, spec, gateway } = await setup((call) =>
      call.turn === 1 ? { status: 503, body: "engine down" } : countingScript(call),
    );
    const t = await runEpisode(spec, { gateway });
    validateTrajectory(t);
    assert.equal(t.failure, FailureKind.FAILURE_KIND_INFERENCE_ERROR);
    assert.match(t.failureDetail, /HTTP 503: engine down/);
    assert.equal(t.turns.length, 1);
    assert.ok(t.outcome);
    assert.deepEqual(gw.deletedSessions, [gw.requests[0]!.sluice_session_id]);
  });

  void it("turns a slow gateway into a HARNESS_TIMEOUT trajectory at the episode deadline", async () => {
    const { spec, gateway } = await setup(() => ({ content: "4", delayMs: 2_000 }));
    const started = Date.now();
    const t = await runEpisode({ ...spec, episodeTimeoutMs: 150 }, { gateway });
    assert.ok(Date.now() - started < 1_500, "the deadline cut the request short");
    assert.equal(t.failure, FailureKind.FAILURE_KIND_HARNESS_TIMEOUT);
    assert.match(t.failureDetail, /150 ms/);
    assert.equal(t.turns.length, 0);
  });

  void it("a request timeout shorter than the episode is an INFERENCE_ERROR", async () => {
    const { spec, gateway } = await setup(() => ({ content: "4", delayMs: 1_000 }), {}, 100);
    const t = await runEpisode(spec, { gateway });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_INFERENCE_ERROR);
    assert.match(t.failureDetail, /timed out/);
  });

  void it("marks a prefix mismatch as TOKENIZATION_MISMATCH and stops", async () => {
    const { spec, gateway } = await setup((call) => ({
      ...(countingScript(call) as object),
      prefixOk: call.turn !== 1,
    }));
    const t = await runEpisode(spec, { gateway });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_TOKENIZATION_MISMATCH);
    assert.equal(t.turns.length, 2);
  });

  void it("an environment that throws yields a SANDBOX_ERROR trajectory", async () => {
    const { spec, gateway } = await setup(countingScript);
    const broken: BoundEnvironment = {
      ...spec.environment,
      create: () => ({
        reset: async () => ({ messages: [{ role: "user", content: "hi" }] }),
        step: async () => {
          throw new Error("container died");
        },
        outcome: () => ({ level: "NO_SUBMIT", score: 0, submitted: false, modified: false, detail: "" }),
        close: async () => {},
      }),
    };
    const t = await runEpisode({ ...spec, environment: broken }, { gateway });
    assert.equal(t.failure, FailureKind.FAILURE_KIND_SANDBOX_ERROR);
    assert.match(t.failureDetail, /container died/);
  });

  void it("throws EpisodeAbortedError on shutdown instead of returning a partial trajectory", async () => {
    const { spec, gateway } = await setup(() => ({ content: "4", delayMs: 2_000 }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(runEpisode(spec, { gateway, signal: ac.signal }), EpisodeAbortedError);
  });
});
