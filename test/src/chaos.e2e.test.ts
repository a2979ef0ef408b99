/**
 * Chaos, end to end: `sluice up -f examples/toy-chaos.yaml` while this test kill -9s the
 * learner, the engine and the actors at seeded random moments (at least MIN_KILLS kills).
 * The run must complete, and the durable records must show that every trajectory id was
 * trained exactly once or dropped with a reason, and that policy versions only went up.
 *
 * Evidence comes from what a crash cannot fake: the learner's committed checkpoints (each
 * holds the ids it trained and dropped, committed by the same rename as the weights' record)
 * and the JetStream store of the run (kept with --keep-nats-store and read after the run):
 * the trajectory stream (what actors published, deduplicated by Nats-Msg-Id) and the
 * events stream (learner steps, resumes, restarts).
 *
 * SLUICE_CHAOS_SEED picks another kill schedule.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  connectNats,
  contracts,
  decodeEvent,
  experimentSubjects,
  loadExperimentManifest,
  mulberry32,
  sleep,
  withDeadline,
  type NatsHandles,
} from "@sluice/common";
import { startNatsServer } from "@sluice/common/internal";
import { alive, orphans, readPids, runSluice } from "./run-sluice.js";

const SPEC = "examples/toy-chaos.yaml";
const SEED = Number(process.env["SLUICE_CHAOS_SEED"] ?? 11);
const MIN_KILLS = 10;
// Each engine kill costs an engine start (torch import: ~10 s on an idle 2-core machine, far more
// under load) plus a learner resume; the deadline leaves room for a loaded machine.
const RUN_DEADLINE_MS = 15 * 60_000;
/** Random wait before each kill, once the run has recovered from the previous one. */
const KILL_GAP_MS: readonly [number, number] = [0, 3_000];
/** How long the run may take to recover from a kill (restart, resume, a new committed step). */
const RECOVERY_MS = 120_000;
/** No kills in the last steps: the run should end while the test still watches it. */
const QUIET_TAIL_STEPS = 3;

interface Kill {
  target: string;
  pid: number;
  atStep: number;
  atMs: number;
}

interface CheckpointRecord {
  step: number;
  policy_version: number;
  trajectories_trained: number;
  consumed_ids: string[];
}

interface Ledger {
  step: number;
  policy_version: number;
  trained: Record<string, number>;
  dropped: Record<string, string>;
}

interface Summary {
  exit: string;
  steps: number;
  trajectories_trained: number;
  final_policy_version: number;
  wall_seconds: number;
  component_restarts?: Record<string, number>;
}

/** Steps with a complete checkpoint (learner.json present), ascending. */
function committedSteps(runDir: string): number[] {
  const root = join(runDir, "checkpoints");
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((s) => existsSync(join(root, `step-${s}`, "learner.json")))
    .sort((a, b) => a - b);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/**
 * Kills until MIN_KILLS are done or the run nears its end. The first kills cover learner,
 * engine and an actor (shuffled); later targets are drawn at random. After each kill it
 * waits until the target has a new pid and the learner has committed a step past the kill:
 * kills that only ever hit half-started processes would test start-up, not recovery.
 */
async function chaos(runDir: string, steps: number, actors: number, done: { ended: boolean }): Promise<Kill[]> {
  const rand = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const actorNames = Array.from({ length: actors }, (_, i) => `actor-${i}`);
  const first = ["learner", "engine", pick(actorNames)].sort(() => rand() - 0.5);
  const targets = ["learner", "engine", ...actorNames];
  const kills: Kill[] = [];
  // Start once the learner has trained and checkpointed something.
  while (!done.ended && committedSteps(runDir).length === 0) await sleep(500);
  while (!done.ended && kills.length < MIN_KILLS + 2) {
    await sleep(KILL_GAP_MS[0] + rand() * (KILL_GAP_MS[1] - KILL_GAP_MS[0]));
    const step = committedSteps(runDir).at(-1) ?? 0;
    if (done.ended || step >= steps - QUIET_TAIL_STEPS) break;
    const target = first[kills.length] ?? pick(targets);
    const pid = readPids(runDir)[target];
    if (pid === undefined || !alive(pid)) continue;
    process.kill(pid, "SIGKILL");
    kills.push({ target, pid, atStep: step, atMs: Date.now() });
    process.stdout.write(`# chaos: kill -9 ${target} (pid ${pid}) at step ${step}\n`);
    const deadline = Date.now() + RECOVERY_MS;
    const recovered = (): boolean => {
      const now = readPids(runDir)[target];
      return now !== undefined && now !== pid && alive(now) && (committedSteps(runDir).at(-1) ?? 0) > step;
    };
    while (!done.ended && !recovered()) {
      assert.ok(Date.now() < deadline, `no recovery ${RECOVERY_MS} ms after killing ${target} at step ${step}`);
      await sleep(200);
    }
  }
  return kills;
}

/** Every message of a stream, decoded; the kept store is read with its own nats-server. */
async function readStream<T>(nats: NatsHandles, stream: string, decode: (b: Uint8Array) => T): Promise<T[]> {
  const info = await withDeadline(nats.jsm.streams.info(stream), 5_000, `${stream} info`);
  const out: T[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await withDeadline(nats.jsm.streams.getMessage(stream, { seq }), 5_000, `${stream} #${seq}`);
    if (m !== null) out.push(decode(m.data));
  }
  return out;
}

/**
 * Sorts never-consumed trajectories by what explains them (see the test). A group's id is its
 * admission slot (services/actor/src/actor.ts groupIdOf), so a slot run again publishes the
 * same trajectory ids and JetStream keeps one copy of each:
 * - partial: a group with fewer than groupSize members: a killed actor's unfinished slot that
 *   no actor ran again before the run ended;
 * - surplus: a whole group the learner never saw any member of: admission admitted more groups
 *   than the run needed (an admission refund the learner published and then rolled back with
 *   its checkpoint).
 */
function classifyLeftovers(
  published: readonly contracts.Trajectory[],
  unconsumed: readonly contracts.Trajectory[],
  groupSize: number,
): { partialGroups: number; surplusGroups: number; unexplained: string[] } {
  const members = new Map<string, number>();
  for (const t of published) members.set(t.groupId, (members.get(t.groupId) ?? 0) + 1);
  const leftOver = new Map<string, number>();
  for (const t of unconsumed) leftOver.set(t.groupId, (leftOver.get(t.groupId) ?? 0) + 1);
  let partialGroups = 0;
  let surplusGroups = 0;
  const unexplained: string[] = [];
  for (const [groupId, n] of leftOver) {
    const size = members.get(groupId) ?? 0;
    if (size < groupSize) partialGroups++;
    else if (size === groupSize && n === size) surplusGroups++;
    else unexplained.push(`group ${groupId}: ${n} of its ${size} published members never consumed`);
  }
  return { partialGroups, surplusGroups, unexplained };
}

test(
  "kill -9 of learner, engine and actors during a run: it completes, each trajectory trained once, versions rise",
  { timeout: RUN_DEADLINE_MS + 120_000 },
  async () => {
    const manifest = loadExperimentManifest(SPEC);
    const { steps, rollout } = manifest.spec;
    const runDir = mkdtempSync(join(tmpdir(), "sluice-chaos-"));
    const t0 = Date.now();
    const done = { ended: false };
    const run = runSluice(["up", "-f", SPEC, "--run-dir", runDir, "--keep-nats-store"], RUN_DEADLINE_MS).finally(
      () => (done.ended = true),
    );
    const kills = await chaos(runDir, steps, rollout.actors, done);
    const { code, output } = await run;
    const wallS = (Date.now() - t0) / 1000;

    // The run completes despite the kills.
    assert.equal(code, 0, `sluice up failed:\n${output.slice(-6000)}`);
    const summary = readJson<Summary>(join(runDir, "summary.json"));
    assert.equal(summary.exit, "completed");
    assert.equal(summary.steps, steps);
    assert.ok(kills.length >= MIN_KILLS, `only ${kills.length} kills before the run ended`);
    const killed = new Set(kills.map((k) => (k.target.startsWith("actor-") ? "actor" : k.target)));
    assert.deepEqual([...killed].sort(), ["actor", "engine", "learner"]);
    for (const k of kills) {
      assert.ok((summary.component_restarts?.[k.target] ?? 0) >= 1, `${k.target} was killed but not restarted`);
    }

    // Id accounting from the committed checkpoints: one per step, each with its ledger.
    const ckpts = committedSteps(runDir);
    assert.deepEqual(
      ckpts,
      Array.from({ length: steps }, (_, i) => i + 1),
      "a committed checkpoint per step (checkpointEvery: 1)",
    );
    const trainedAt = new Map<string, number>();
    const dropped = new Map<string, string>();
    /** Ids with a `duplicate` drop: another copy of an id whose fate is recorded elsewhere. */
    const duplicates = new Set<string>();
    let lastVersion = -1;
    for (const step of ckpts) {
      const dir = join(runDir, "checkpoints", `step-${step}`);
      const record = readJson<CheckpointRecord>(join(dir, "learner.json"));
      const ledger = readJson<Ledger>(join(dir, "trained-ids.json"));
      assert.equal(ledger.step, step);
      assert.equal(ledger.policy_version, record.policy_version);
      assert.ok(
        record.policy_version > lastVersion,
        `policy version went from ${lastVersion} to ${record.policy_version}`,
      );
      lastVersion = record.policy_version;
      for (const [id, at] of Object.entries(ledger.trained)) {
        assert.equal(trainedAt.get(id), undefined, `${id} trained at step ${trainedAt.get(id)} and again at ${at}`);
        assert.equal(at, step);
        trainedAt.set(id, at);
      }
      for (const [id, reason] of Object.entries(ledger.dropped)) {
        assert.notEqual(reason, "unknown", `${id} acked by the learner without a decision`);
        if (reason === "duplicate") duplicates.add(id);
        else {
          assert.equal(trainedAt.has(id), false, `${id} trained and dropped (${reason})`);
          assert.equal(dropped.has(id), false, `${id} dropped twice`);
          dropped.set(id, reason);
        }
      }
    }
    for (const id of dropped.keys()) assert.equal(trainedAt.has(id), false, `${id} dropped, then trained`);
    for (const id of duplicates) {
      assert.ok(trainedAt.has(id) || dropped.has(id), `${id} only ever dropped as a duplicate: its data was lost`);
    }
    const final = readJson<CheckpointRecord>(join(runDir, "checkpoints", `step-${steps}`, "learner.json"));
    assert.equal(final.trajectories_trained, trainedAt.size);
    assert.equal(summary.trajectories_trained, trainedAt.size);
    assert.equal(summary.final_policy_version, final.policy_version);
    const consumed = new Set(final.consumed_ids);
    assert.deepEqual([...consumed].sort(), [...new Set([...trainedAt.keys(), ...dropped.keys()])].sort());

    // What was published, and what the events say, from the run's kept JetStream store.
    const server = await startNatsServer({ storeDir: join(runDir, "nats") });
    const nats = await connectNats(server.url, "chaos-test");
    const names = experimentSubjects(manifest.metadata.name);
    let published: contracts.Trajectory[];
    let events: contracts.Event[];
    try {
      published = await readStream(nats, names.trajStream, (b) => contracts.Trajectory.decode(b));
      events = await readStream(nats, names.eventsStream, decodeEvent);
    } finally {
      await nats.close();
      await server.stop();
    }
    const publishedIds = new Set(published.map((t) => t.trajectoryId));
    assert.equal(publishedIds.size, published.length, "the trajectory stream holds each id once (Nats-Msg-Id)");
    for (const id of consumed) assert.ok(publishedIds.has(id), `${id} consumed but never published`);
    // Without kills every published id is consumed (admission's budget is steps·B groups).
    // Kills leave leftovers the learner never consumed: partial groups of killed actors and
    // surplus whole groups (classifyLeftovers says how each arises). Nothing else may be left.
    const unconsumed = published.filter((t) => !consumed.has(t.trajectoryId));
    const leftovers = classifyLeftovers(published, unconsumed, rollout.groupSize);
    assert.deepEqual(leftovers.unexplained, [], "published, never consumed, and no kill explains it");
    assert.ok(
      leftovers.surplusGroups <= kills.length * rollout.groupsPerStep,
      `${leftovers.surplusGroups} surplus groups for ${kills.length} kills`,
    );

    // Versions only go up: learner steps in the order the events stream recorded them.
    const stepEvents = events.filter((e) => e.component === "learner" && e.kind === "learner_step");
    const versions = stepEvents.map((e) => e.values["policy_version"] ?? -1);
    for (let i = 1; i < versions.length; i++)
      assert.ok(versions[i]! > versions[i - 1]!, `policy version ${versions[i - 1]} then ${versions[i]}`);
    // After a learner or engine kill, training goes on only through a resumed learner: the
    // first step that cannot have been in flight at the kill comes after a learner_resumed.
    // (A step committed as atStep was read may be followed by one done but not yet committed
    // and one running, so that step is atStep + 3.) One resume may cover kills close together.
    const resumedAt = events.filter((e) => e.kind === "learner_resumed").map((e) => e.timeMs);
    const resumes = resumedAt.length;
    for (const k of kills.filter((x) => x.target === "learner" || x.target === "engine")) {
      const next = stepEvents.find((e) => e.timeMs > k.atMs && e.step >= k.atStep + 3);
      if (next === undefined) continue;
      assert.ok(
        resumedAt.some((t) => t > k.atMs && t <= next.timeMs),
        `step ${next.step} trained after the ${k.target} kill at step ${k.atStep} with no learner resume between`,
      );
    }
    const restartEvents = events.filter((e) => e.kind === "component_restarted").length;
    const restarts = Object.values(summary.component_restarts ?? {}).reduce((a, b) => a + b, 0);
    assert.equal(restartEvents, restarts);

    const reasons: Record<string, number> = {};
    for (const r of dropped.values()) reasons[r] = (reasons[r] ?? 0) + 1;
    process.stdout.write(
      `# chaos: seed ${SEED}, ${kills.length} kills (${kills.map((k) => `${k.target}@${k.atStep}`).join(" ")}), ` +
        `${wallS.toFixed(0)} s; published ${publishedIds.size}, trained ${trainedAt.size} (once each), ` +
        `dropped ${dropped.size} ${JSON.stringify(reasons)} (+${duplicates.size} duplicate copies), never consumed ${unconsumed.length} ` +
        `(${leftovers.partialGroups} partial groups of killed actors, ${leftovers.surplusGroups} surplus groups); restarts ${JSON.stringify(summary.component_restarts)}; ` +
        `learner resumes ${resumes}; versions 0→${final.policy_version}\n`,
    );

    assert.deepEqual(orphans(runDir), [], "still running after sluice up returned");
    rmSync(runDir, { recursive: true, force: true });
  },
);
