/**
 * End to end: `sluice up` on examples/toy-oni-gra.yaml — G-RA composition (the `oni` channel
 * gated on the outcome channel) and ONI asynchronous annotation (retrieval, c_int > 0) — with
 * a deterministic local OpenAI-API judge started by the test in place of `sluice://gateway`.
 * While the run goes, the test follows the scored and annotation-result subjects on NATS.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  REPO_ROOT,
  connectNats,
  contracts,
  errorMessage,
  experimentSubjects,
  sleep,
  type NatsHandles,
  type RuntimeConfig,
} from "@sluice/common";
import { startLocalJudge } from "@sluice/reward/internal";
import { orphans, runSluice } from "./run-sluice.js";

interface Summary {
  exit: string;
  steps: number;
  trajectories_published: number;
  trajectories_trained: number;
  trajectories_dropped: Record<string, number>;
  final_policy_version: number;
  reward_metrics?: Record<string, number>;
}

const EXAMPLE = "examples/toy-oni-gra.yaml";
const EXPERIMENT = "toy-oni-gra";
const STEPS = 3;
/** The example's gate: `oni` counts only when the outcome (the environment's score) is ≥ 0.3. */
const GATE_THRESHOLD = 0.3;
const C_INT = 0.1;
const RUN_DEADLINE_MS = 8 * 60_000;
const RUNTIME_FILE_DEADLINE_MS = 60_000;
const NATS_CONNECT_DEADLINE_MS = 30_000;

/** Deterministic judge: by a hash of the prompt, 1 in 5 unparseable, 1 in 5 "0", the rest "1". */
function judgeAnswer(prompt: string): "unparseable" | "0" | "1" {
  const h = createHash("sha256").update(prompt).digest()[0] ?? 0;
  return h % 5 === 0 ? "unparseable" : h % 5 === 1 ? "0" : "1";
}

/** Waits for `<runDir>/runtime.json`, then connects to the run's nats-server (both with deadlines). */
async function connectToRun(runDir: string, stop: AbortSignal): Promise<NatsHandles | undefined> {
  const path = join(runDir, "runtime.json");
  const fileDeadline = Date.now() + RUNTIME_FILE_DEADLINE_MS;
  while (!existsSync(path)) {
    if (stop.aborted) return undefined;
    if (Date.now() > fileDeadline) throw new Error(`${path} not written within ${RUNTIME_FILE_DEADLINE_MS} ms`);
    await sleep(100);
  }
  const runtime = JSON.parse(readFileSync(path, "utf8")) as RuntimeConfig;
  const connectDeadline = Date.now() + NATS_CONNECT_DEADLINE_MS;
  for (;;) {
    if (stop.aborted) return undefined;
    try {
      return await connectNats(runtime.natsUrl, "oni-gra-e2e", 1_000);
    } catch (err) {
      if (Date.now() > connectDeadline) {
        throw new Error(`cannot reach ${runtime.natsUrl} within ${NATS_CONNECT_DEADLINE_MS} ms: ${errorMessage(err)}`);
      }
      await sleep(100);
    }
  }
}

test(
  "sluice up with G-RA and ONI: labels stored and read back late-bound, gates applied, composition and label version recorded",
  { timeout: RUN_DEADLINE_MS + 2 * 60_000 },
  async () => {
    const served = { unparseable: 0, "0": 0, "1": 0 };
    const judge = await startLocalJudge({
      answer: (prompt) => {
        const a = judgeAnswer(prompt);
        served[a]++;
        return a === "unparseable" ? "I cannot tell." : `Answer: ${a}`;
      },
    });
    const specDir = mkdtempSync(join(tmpdir(), "sluice-oni-gra-spec-"));
    const runDir = mkdtempSync(join(tmpdir(), "sluice-oni-gra-e2e-"));
    const example = readFileSync(join(REPO_ROOT, EXAMPLE), "utf8");
    const ownGateway = /^(\s+baseUrl:\s*)sluice:\/\/gateway[ \t]*$/m;
    assert.match(example, ownGateway, `${EXAMPLE} no longer uses the run's own gateway as judge`);
    const specPath = join(specDir, "toy-oni-gra.yaml");
    writeFileSync(specPath, example.replace(ownGateway, `$1${judge.baseUrl}`));

    const scored = new Map<string, contracts.ScoredTrajectory>();
    const undecodable: string[] = [];
    let resultMessages = 0;
    let resultLabels = 0;
    const stop = new AbortController();
    const s = experimentSubjects(EXPERIMENT);
    // Follow the run on NATS: scored trajectories and annotation results.
    const follow = (async (): Promise<NatsHandles | undefined> => {
      const nats = await connectToRun(runDir, stop.signal);
      if (!nats) return undefined;
      const scoredSub = nats.nc.subscribe(s.scored);
      const resultSub = nats.nc.subscribe(s.annotResult);
      void (async () => {
        for await (const m of scoredSub) {
          try {
            const st = contracts.ScoredTrajectory.decode(m.data);
            scored.set(st.trajectory?.trajectoryId ?? "", st);
          } catch (err) {
            undecodable.push(errorMessage(err));
          }
        }
      })();
      void (async () => {
        for await (const m of resultSub) {
          try {
            const r = JSON.parse(new TextDecoder().decode(m.data)) as { labels: Record<string, number> };
            resultMessages++;
            resultLabels += Object.keys(r.labels).length;
          } catch (err) {
            undecodable.push(`annotation result: ${errorMessage(err)}`);
          }
        }
      })();
      return nats;
    })();

    const started = Date.now();
    let run: { code: number | null; output: string };
    let nats: NatsHandles | undefined;
    try {
      run = await runSluice(["up", "-f", specPath, "--run-dir", runDir, "--steps", String(STEPS)], RUN_DEADLINE_MS);
    } finally {
      stop.abort();
      await judge.close();
      nats = await follow.catch((err: unknown) => {
        throw new Error(`following the run on NATS failed: ${errorMessage(err)}`, { cause: err });
      });
      await nats?.close().catch(() => undefined);
    }
    const { code, output } = run;
    process.stderr.write(`oni-gra e2e: sluice up took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    assert.equal(code, 0, `sluice up failed:\n${output.slice(-4000)}`);

    // The run completed and trained every published trajectory.
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Summary;
    assert.equal(summary.exit, "completed");
    assert.equal(summary.steps, STEPS);
    assert.equal(summary.final_policy_version, STEPS);
    const dropped = Object.values(summary.trajectories_dropped).reduce((a, b) => a + b, 0);
    assert.ok(summary.trajectories_published > 0);
    assert.equal(summary.trajectories_trained, summary.trajectories_published - dropped);

    // The resolved judge is the local one (runtime.json), and it was asked.
    const runtime = JSON.parse(readFileSync(join(runDir, "runtime.json"), "utf8")) as RuntimeConfig;
    assert.equal(runtime.spec.reward.oni.judge.baseUrl, judge.baseUrl);
    assert.ok(judge.requests > 0, "the judge was never asked");

    // ONI annotator counters from the reward service (summary.json, scraped before shutdown).
    const m = summary.reward_metrics;
    assert.ok(m, `summary.json has no reward_metrics:\n${output.slice(-2000)}`);
    // Sum of the series named `name` whose labels include `labels` (services add component/experiment).
    const metric = (name: string, labels: Record<string, string> = {}): number =>
      Object.entries(m)
        .filter(([series]) => {
          const [, n, body] = /^([^{]+)(?:\{(.*)\})?$/.exec(series) ?? [];
          return n === name && Object.entries(labels).every(([k, v]) => (body ?? "").includes(`${k}="${v}"`));
        })
        .reduce((a, [, v]) => a + v, 0);
    const labelsStored = metric("sluice_oni_labels_stored_total");
    const parseFailures = metric("sluice_oni_parse_failures_total");
    const judgeOk = metric("sluice_oni_judge_requests_total", { outcome: "ok" });
    assert.ok(labelsStored > 0, "no labels stored");
    // Chat mode: one request per item; every stored label was one answer of the judge.
    assert.ok(judgeOk > 0 && judgeOk <= judge.requests, `judge ok requests ${judgeOk}, judge saw ${judge.requests}`);
    assert.ok(labelsStored <= judgeOk, `labels stored ${labelsStored} > judge answers ${judgeOk}`);
    // Unparseable answers were counted (and only those).
    assert.ok(served.unparseable > 0, "the judge never gave an unparseable answer");
    assert.ok(parseFailures > 0 && parseFailures <= served.unparseable, `parse failures ${parseFailures}`);
    assert.equal(metric("sluice_reward_trajectories_scored_total"), summary.trajectories_published);
    assert.ok(metric("sluice_oni_label_latency_seconds_count") > 0);

    // Annotation results arrived on NATS, one per stored batch; each label is one judge answer.
    // (The reward service keeps storing labels after summary.json's scrape, until it stops.)
    assert.ok(resultMessages > 0, "no annotation results on NATS");
    assert.ok(
      resultLabels > 0 && resultLabels <= judge.requests,
      `result labels ${resultLabels}, judge ${judge.requests}`,
    );

    // Every scored trajectory records the G-RA composition and the label-store version.
    assert.deepEqual(undecodable, []);
    assert.equal(scored.size, summary.trajectories_published, "scored trajectories seen on NATS");
    let gateOpen = 0;
    let labelledRead = 0;
    let maxVersion = 0;
    for (const st of scored.values()) {
      const id = st.trajectory?.trajectoryId ?? "?";
      assert.equal(st.composition, `gra(outcome≥${GATE_THRESHOLD};oni)`, id);
      const outcome = st.channels.find((c) => c.name === "outcome");
      const oni = st.channels.find((c) => c.name === "oni");
      assert.ok(outcome && oni, `${id}: channels ${st.channels.map((c) => c.name).join(",")}`);
      const version = /^labels@(\d+)$/.exec(oni.producerVersion);
      assert.ok(version, `${id}: oni producer version ${JSON.stringify(oni.producerVersion)}`);
      maxVersion = Math.max(maxVersion, Number(version[1]));
      // Before any label is stored every step reads 0 (late-bound retrieval).
      if (Number(version[1]) === 0) assert.equal(oni.value, 0, `${id}: oni value before any label`);
      // Per-turn values are label · N_ep^(−β) with labels 0/1 and β = 3.
      for (const v of oni.perTurn)
        assert.ok(
          [0, 1, 1 / 8, 1 / 27].some((x) => Math.abs(v - x) < 1e-9),
          `${id}: ${v}`,
        );
      if (oni.value > 0) labelledRead++;
      // G-RA: the oni channel counts iff the higher-priority outcome channel clears its gate (≥).
      assert.equal(outcome.gatePassed, true, id);
      assert.equal(oni.gatePassed, outcome.value >= GATE_THRESHOLD, `${id}: outcome ${outcome.value}`);
      if (oni.gatePassed) gateOpen++;
      const expected = outcome.value + (oni.gatePassed ? C_INT * oni.value : 0);
      assert.ok(Math.abs(st.reward - expected) < 1e-6, `${id}: reward ${st.reward}, expected ${expected}`);
    }
    process.stderr.write(
      `oni-gra e2e: ${scored.size} scored, gate open in ${gateOpen}, ${labelledRead} read a stored label, ` +
        `label store at v${maxVersion}, ${labelsStored} labels stored, ${parseFailures} parse failures, ` +
        `${resultMessages} result messages\n`,
    );
    assert.ok(maxVersion > 0, "no trajectory was scored after a label was stored");
    assert.ok(labelledRead > 0, "no trajectory read a stored label (late binding)");
    // The gate is neither always open nor always shut on this run.
    assert.ok(gateOpen > 0 && gateOpen < scored.size, `gate open in ${gateOpen} of ${scored.size}`);
    const rate = metric("sluice_reward_gate_open_rate", { channel: "oni" });
    assert.ok(rate > 0 && rate < 1, `gate-open rate of oni ${rate}`);

    // No orphans: every process the run started is gone.
    const pids = JSON.parse(readFileSync(join(runDir, "pids.json"), "utf8")) as Record<string, number>;
    assert.ok(Object.keys(pids).length >= 6, `pids.json: ${Object.keys(pids).join(",")}`);
    assert.deepEqual(orphans(runDir), [], "still running after sluice up returned");
  },
);
