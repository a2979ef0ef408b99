import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, test } from "node:test";
import { DeadlineError, sleep, waitFor } from "@sluice/common";
import { freePort } from "@sluice/common/internal";
import { ChildExitedError } from "./errors.js";
import { RestartPolicy, backoffMs, type RestartConfig } from "./restart-policy.js";
import { Restarter, type ComponentRestart } from "./restarter.js";
import { Supervisor, type ChildSpec } from "./supervisor.js";

const dir = mkdtempSync(join(tmpdir(), "sluice-cli-sup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, `${name}.mjs`);
  writeFileSync(path, body);
  return path;
}

function node(name: string, body: string, extra: Partial<ChildSpec> = {}): ChildSpec {
  return { name, command: process.execPath, args: [script(name, body)], logFile: join(dir, `${name}.log`), ...extra };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, "ESRCH");
    return false;
  }
}

const SLEEPER = `console.log("started"); setInterval(() => {}, 1000);`;

void test("starts a child, logs its output, and stops it with SIGTERM", async () => {
  const sup = new Supervisor();
  const child = sup.start(node("sleeper", SLEEPER));
  await waitFor(
    () => (readFileSync(join(dir, "sleeper.log"), "utf8").includes("started") ? true : undefined),
    5_000,
    "child output",
  );
  const info = await child.stop(5_000);
  assert.equal(info.signal, "SIGTERM");
  assert.equal(isAlive(child.pid ?? -1), false);
});

void test("reports an unexpected exit with the child's name, code and log file", async () => {
  const seen: ChildExitedError[] = [];
  const sup = new Supervisor({ onUnexpectedExit: (_c, err) => seen.push(err) });
  sup.start(node("crasher", `console.error("oops"); process.exit(3);`));
  await waitFor(() => (seen.length > 0 ? true : undefined), 5_000, "exit callback");
  assert.equal(seen[0]?.code, 3);
  assert.match(seen[0]?.message ?? "", /crasher exited unexpectedly \(code 3\); see .*crasher\.log/);
  await sup.stopAll(1_000);
});

void test("a missing binary is reported as failing to start", async () => {
  const seen: ChildExitedError[] = [];
  const sup = new Supervisor({ onUnexpectedExit: (_c, err) => seen.push(err) });
  sup.start({ name: "ghost", command: join(dir, "no-such-binary"), args: [] });
  await waitFor(() => (seen.length > 0 ? true : undefined), 5_000, "exit callback");
  assert.match(seen[0]?.message ?? "", /ghost failed to start: .*ENOENT/);
});

void test("health wait times out with a DeadlineError when nothing serves", async () => {
  const sup = new Supervisor();
  const child = sup.start(node("silent", SLEEPER));
  const port = await freePort();
  await assert.rejects(sup.waitHealthy(child, `127.0.0.1:${port}`, 700), DeadlineError);
  await sup.stopAll(5_000);
});

void test("health wait fails fast when the child exits", async () => {
  const sup = new Supervisor();
  const child = sup.start(node("quitter", `setTimeout(() => process.exit(4), 100);`));
  const port = await freePort();
  const t0 = Date.now();
  await assert.rejects(sup.waitHealthy(child, `127.0.0.1:${port}`, 30_000), ChildExitedError);
  assert.ok(Date.now() - t0 < 10_000);
});

void test("a child that ignores SIGTERM is killed after the grace period, with its grandchildren", async () => {
  const body = `
    import { spawn } from "node:child_process";
    process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
    const g = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
    console.log("grandchild " + g.pid);
    setInterval(() => {}, 1000);
  `;
  const sup = new Supervisor();
  const child = sup.start(node("stubborn", body));
  const log = join(dir, "stubborn.log");
  const grandchild = await waitFor(
    () => {
      const m = /grandchild (\d+)/.exec(readFileSync(log, "utf8"));
      return m ? Number(m[1]) : undefined;
    },
    5_000,
    "grandchild pid",
  );
  await sleep(200); // let the SIGTERM handler install
  const t0 = Date.now();
  const info = await child.stop(500);
  assert.equal(info.signal, "SIGKILL");
  assert.ok(Date.now() - t0 >= 450, "waited for the grace period first");
  assert.match(readFileSync(log, "utf8"), /ignoring SIGTERM/);
  await waitFor(() => (!isAlive(grandchild) ? true : undefined), 5_000, "grandchild gone");
  assert.equal(isAlive(child.pid ?? -1), false);
  assert.equal(isAlive(grandchild), false);
});

void test("stopAll stops in reverse start order with stopLast children after the rest", async () => {
  const order: string[] = [];
  const sup = new Supervisor();
  const slowExit = `process.on("SIGTERM", () => setTimeout(() => process.exit(0), 50)); setInterval(() => {}, 1000);`;
  const children = [
    sup.start(node("base", slowExit, { stopLast: true })),
    sup.start(node("first", slowExit)),
    sup.start(node("second", SLEEPER)),
  ];
  for (const c of children) void c.exited.then(() => order.push(c.name));
  await sleep(300);
  await sup.stopAll(5_000, async () => {
    order.push("between");
  });
  assert.deepEqual(order.slice(-2), ["between", "base"]);
  assert.deepEqual(new Set(order.slice(0, 2)), new Set(["first", "second"]));
  for (const c of children) assert.equal(isAlive(c.pid ?? -1), false);
});

void describe("restart policy", () => {
  const config = { maxRestarts: 2, backoffMs: 100, maxBackoffMs: 250 };
  const cases: { name: string; deaths: string[]; want: (string | number)[] }[] = [
    { name: "doubles the wait per component, capped", deaths: ["engine", "engine"], want: [100, 200] },
    { name: "each component has its own budget", deaths: ["engine", "actor-0", "engine"], want: [100, 100, 200] },
    {
      name: "refuses past the budget",
      deaths: ["learner", "learner", "learner"],
      want: [100, 200, "learner used its 2 restarts (spec.restart.maxRestarts)"],
    },
    { name: "never restarts nats-server", deaths: ["nats-server"], want: ["nats-server is never restarted"] },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const policy = new RestartPolicy(config, new Set(["nats-server"]));
      const got = c.deaths.map((name) => {
        const d = policy.decide(name);
        return d.restart ? d.delayMs : d.reason;
      });
      assert.deepEqual(got, c.want);
    });
  }

  void it("caps the doubled wait at maxBackoffMs", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 40].map((a) => backoffMs(config, a)),
      [100, 200, 250, 250, 250],
    );
  });

  void it("says restarts are off when maxRestarts is 0", () => {
    const d = new RestartPolicy({ ...config, maxRestarts: 0 }).decide("engine");
    assert.deepEqual(d, { restart: false, reason: "restarts are off (spec.restart.maxRestarts is 0)" });
  });
});

/** A Supervisor whose unexpected exits go to a Restarter, recording what it does. */
function restartingSupervisor(
  config: RestartConfig,
  dependents: Record<string, readonly string[]> = {},
  respec?: (spec: ChildSpec, incarnation: number) => ChildSpec,
) {
  const restarts: ComponentRestart[] = [];
  const givenUp: Error[] = [];
  const ending = new AbortController();
  // The supervisor is built first; its exit callback runs only after the restarter exists.
  const sup: Supervisor = new Supervisor({ onUnexpectedExit: (child, err) => restarter.handleExit(child, err) });
  const restarter: Restarter = new Restarter({
    supervisor: sup,
    policy: new RestartPolicy(config),
    healthAddress: () => undefined,
    healthTimeoutMs: () => 5_000,
    dependents,
    stopGraceMs: 2_000,
    ...(respec ? { respec } : {}),
    signal: ending.signal,
    onRestarted: (r) => restarts.push(r),
    onGiveUp: (err) => givenUp.push(err),
  });
  return { sup, restarts, givenUp, ending };
}

void describe("restarts under the supervisor", () => {
  void it("restarts a child killed with SIGKILL after the backoff, with a new pid", async () => {
    const { sup, restarts, givenUp, ending } = restartingSupervisor({
      maxRestarts: 2,
      backoffMs: 300,
      maxBackoffMs: 1_000,
    });
    const first = sup.start(node("victim", SLEEPER));
    await sleep(200);
    const killedAt = Date.now();
    process.kill(first.pid ?? -1, "SIGKILL");
    await waitFor(() => (restarts.length > 0 ? true : undefined), 5_000, "restart");
    assert.ok(Date.now() - killedAt >= 280, "waited for the backoff");
    const fresh = sup.current("victim");
    assert.ok(fresh && fresh !== first && fresh.running);
    assert.notEqual(fresh.pid, first.pid);
    assert.deepEqual(restarts[0], {
      component: "victim",
      pid: fresh.pid,
      previousPid: first.pid,
      attempt: 1,
      delayMs: 300,
      reason: "killed by SIGKILL",
    });
    assert.deepEqual(givenUp, []);
    ending.abort();
    await sup.stopAll(2_000);
    assert.equal(isAlive(fresh.pid ?? -1), false);
  });

  void it("gives up with the exit and the reason once the budget is spent", async () => {
    const { sup, restarts, givenUp, ending } = restartingSupervisor({
      maxRestarts: 1,
      backoffMs: 50,
      maxBackoffMs: 50,
    });
    sup.start(node("flaky", `setTimeout(() => process.exit(7), 100);`));
    await waitFor(() => (givenUp.length > 0 ? true : undefined), 5_000, "give up");
    assert.equal(restarts.length, 1);
    assert.match(
      givenUp[0]?.message ?? "",
      /flaky exited unexpectedly \(code 7\).*not restarted: flaky used its 1 restarts/,
    );
    ending.abort();
    await sup.stopAll(1_000);
  });

  void it("restarts the dependents started before their dependency died, not counting them", async () => {
    const { sup, restarts, givenUp, ending } = restartingSupervisor(
      { maxRestarts: 3, backoffMs: 50, maxBackoffMs: 50 },
      { engine: ["learner"] },
    );
    const engine = sup.start(node("engine", SLEEPER));
    const learner = sup.start(node("learner", SLEEPER));
    await sleep(200);
    process.kill(engine.pid ?? -1, "SIGKILL");
    await waitFor(() => (restarts.length >= 2 ? true : undefined), 10_000, "engine and learner restarts");
    assert.deepEqual(
      restarts.map((r) => [r.component, r.reason, r.dependentOf]),
      [
        ["engine", "killed by SIGKILL", undefined],
        ["learner", "engine restarted", "engine"],
      ],
    );
    assert.equal(learner.exitInfo?.signal, "SIGTERM", "the old learner was stopped, not killed");
    assert.notEqual(sup.current("learner")?.pid, learner.pid);
    // Dependent restarts are not restarts of their own: nothing else follows.
    await sleep(200);
    assert.equal(restarts.length, 2);
    assert.deepEqual(givenUp, []);
    ending.abort();
    await sup.stopAll(2_000);
  });

  void it("starts nothing once stopAll began", async () => {
    const { sup, restarts, ending } = restartingSupervisor({ maxRestarts: 3, backoffMs: 300, maxBackoffMs: 300 });
    const child = sup.start(node("late", SLEEPER));
    await sleep(200);
    process.kill(child.pid ?? -1, "SIGKILL");
    await sleep(50);
    ending.abort();
    await sup.stopAll(1_000);
    await sleep(500);
    assert.deepEqual(restarts, []);
    assert.throws(() => sup.respawn(child), /supervisor is stopping/);
  });
});

void test("with restarts off, a death fails the run with the exit itself, as before", async () => {
  const { sup, restarts, givenUp, ending } = restartingSupervisor({ maxRestarts: 0, backoffMs: 0, maxBackoffMs: 0 });
  sup.start(node("once", `process.exit(5);`));
  await waitFor(() => (givenUp.length > 0 ? true : undefined), 5_000, "give up");
  assert.equal(restarts.length, 0);
  assert.ok(givenUp[0] instanceof ChildExitedError);
  assert.match(givenUp[0].message, /^once exited unexpectedly \(code 5\)/);
  ending.abort();
  await sup.stopAll(1_000);
});

void test("each restart runs the component's next incarnation when a respec is given", async () => {
  const respec = (spec: ChildSpec, n: number): ChildSpec => ({ ...spec, env: { ...process.env, IDENTITY: `r${n}` } });
  const { sup, restarts, ending } = restartingSupervisor({ maxRestarts: 3, backoffMs: 0, maxBackoffMs: 0 }, {}, respec);
  const body = `console.log("identity " + (process.env.IDENTITY ?? "r0")); setInterval(() => {}, 1000);`;
  const log = join(dir, "incarnated.log");
  sup.start(node("incarnated", body));
  for (const n of [1, 2]) {
    // Kill each incarnation only once it has printed: a loaded machine may take longer than any
    // fixed pause to start node.
    const printed = `identity r${n - 1}`;
    await waitFor(() => (readFileSync(log, "utf8").includes(printed) ? true : undefined), 10_000, printed);
    process.kill(sup.current("incarnated")?.pid ?? -1, "SIGKILL");
    await waitFor(() => (restarts.length >= n ? true : undefined), 5_000, `restart ${n}`);
  }
  await waitFor(() => (readFileSync(log, "utf8").includes("identity r2") ? true : undefined), 5_000, "r2 output");
  assert.deepEqual(
    readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("identity")),
    ["identity r0", "identity r1", "identity r2"],
  );
  ending.abort();
  await sup.stopAll(1_000);
});
