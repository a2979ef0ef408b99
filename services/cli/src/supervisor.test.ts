import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { DeadlineError, sleep, waitFor } from "@sluice/common";
import { freePort } from "@sluice/common/internal";
import { ChildExitedError } from "./errors.js";
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
