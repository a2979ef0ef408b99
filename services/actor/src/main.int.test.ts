import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import {
  connectNats,
  contracts,
  experimentSpecSchema,
  experimentSubjects,
  KV_KEYS,
  openKv,
  waitFor,
  type NatsHandles,
  type RuntimeConfig,
} from "@sluice/common";
import { startNatsServer, type NatsServerHandle } from "@sluice/common/internal";
import { countingScript, startFakeGateway, type FakeGateway } from "./testing/fake-gateway.js";

const EXP = "actor-main-it";
const names = experimentSubjects(EXP);
const mainJs = join(dirname(fileURLToPath(import.meta.url)), "main.js");

void describe("actor process", () => {
  let server: NatsServerHandle;
  let nats: NatsHandles;
  let gw: FakeGateway;
  let runDir: string;
  before(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, "main-it");
    gw = await startFakeGateway(countingScript);
    runDir = mkdtempSync(join(tmpdir(), "sluice-actor-"));
  });
  after(async () => {
    await gw?.close();
    await nats?.close();
    await server?.stop();
    rmSync(runDir, { recursive: true, force: true });
  });

  void it("starts from runtime.json, rolls out the budget and stops cleanly on SIGTERM", async () => {
    const gwPort = Number(new URL(gw.url).port);
    const endpoint = { host: "127.0.0.1", grpcPort: 0, metricsPort: 0 };
    const runtime: RuntimeConfig = {
      experiment: EXP,
      runDir,
      natsUrl: server.url,
      spec: experimentSpecSchema.parse({
        steps: 1,
        environment: { name: "digits" },
        rollout: { groupSize: 2, groupsPerStep: 1 },
      }),
      services: {
        engine: endpoint,
        sandbox: endpoint,
        gateway: { ...endpoint, httpPort: gwPort },
        actor: endpoint,
        reward: endpoint,
        learner: endpoint,
      },
    };
    const runtimePath = join(runDir, "runtime.json");
    writeFileSync(runtimePath, JSON.stringify(runtime));
    const child = spawn(process.execPath, [mainJs, "--runtime", runtimePath], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, SLUICE_ACTOR_ID: "actor-7" },
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitFor(() => (stderr.includes('"msg":"ready"') ? true : undefined), 15_000, "actor ready");
      const kv = await openKv(nats.nc, names.kvBucket);
      await kv.put(
        KV_KEYS.policy,
        contracts.PolicyRecord.encode({ version: 0, weightsUri: "", publishedAtMs: 0, step: 0 }).finish(),
      );
      await waitFor(
        async () => ((await nats.jsm.streams.info(names.trajStream)).state.messages === 2 ? true : undefined),
        10_000,
        "two trajectories",
      );
      await waitFor(() => (stderr.includes("actor_budget_exhausted") ? true : undefined), 5_000, "budget event");
      const first = await nats.jsm.streams.getMessage(names.trajStream, { seq: 1 });
      assert.ok(first);
      assert.equal(contracts.Trajectory.decode(first.data).groupId, "g0", "a group is named by its admission slot");
    } finally {
      child.kill("SIGTERM");
    }
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 10_000))]);
    assert.equal(code, 0, stderr.slice(-2000));
  });
});
