import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { connectNats, contracts, ensureExperimentStreams, experimentSubjects, type NatsHandles } from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { collectEpisodeStats } from "./episode-stats.js";

const { FailureKind, OutcomeLevel } = contracts;
const EXP = "episode-stats-it";

let server: NatsServerHandle;
let nats: NatsHandles;
before(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, "episode-stats-it");
  await ensureExperimentStreams(nats.jsm, EXP);
});
after(async () => {
  await nats?.close();
  await server?.stop();
});

void it("reads every published trajectory (thousands, in batches) and tallies them by guidance round", async () => {
  const names = experimentSubjects(EXP);
  const n = 4_500;
  for (let i = 0; i < n; i++) {
    const round = i % 3 === 2 ? 1 : 0;
    const resolved = round === 1 ? i % 2 === 0 : i % 10 === 0;
    const t = contracts.Trajectory.fromPartial({
      trajectoryId: `t-${i}`,
      guidanceRound: round,
      failure: FailureKind.FAILURE_KIND_NONE,
      outcome: {
        level: resolved ? OutcomeLevel.OUTCOME_LEVEL_RESOLVED : OutcomeLevel.OUTCOME_LEVEL_TESTS_FAIL,
        score: resolved ? 1 : 0,
      },
    });
    await nats.js.publish(names.traj, contracts.Trajectory.encode(t).finish());
  }
  await nats.js.publish(names.traj, Uint8Array.from([0xff, 0xff, 0xff, 0x01]));

  const stats = await collectEpisodeStats(nats, EXP, 30_000);
  assert.equal(stats.complete, true);
  assert.equal(stats.stream_messages, n + 1);
  assert.equal(stats.count, n);
  assert.equal(stats.unreadable, 1, "the undecodable message is counted, not skipped");
  let firstResolved = 0;
  let reResolved = 0;
  for (let i = 0; i < n; i++) {
    if (i % 3 === 2) reResolved += i % 2 === 0 ? 1 : 0;
    else firstResolved += i % 10 === 0 ? 1 : 0;
  }
  assert.deepEqual(stats.by_guidance_round, {
    "0": { count: n - n / 3, resolved: firstResolved },
    "1": { count: n / 3, resolved: reResolved },
  });
  const consumers = await nats.jsm.consumers.list(names.trajStream).next();
  assert.deepEqual(
    consumers.map((c) => c.name),
    [],
    "the reader's ordered consumer is gone afterwards",
  );
});

void it("says when the deadline cut the read short", async () => {
  // A clock that runs out after 50 messages' worth of readings (about one per message).
  let t = 0;
  const stats = await collectEpisodeStats(nats, EXP, 50_000, () => (t += 1_000));
  assert.equal(stats.complete, false);
  assert.ok(stats.count < stats.stream_messages);
});
