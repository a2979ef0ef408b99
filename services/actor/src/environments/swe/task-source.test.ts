import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvironmentConfigError } from "../../errors.js";
import { parseSweConfig } from "./config.js";
import { sweEnvironment } from "./index.js";
import { loadSweTasks, resolveTaskPath, SweTaskSource } from "./task-source.js";
import { rawTask, writeTaskDir } from "../../testing/swe-task-fixtures.js";

void describe("swe config", () => {
  void it("fills the documented defaults", () => {
    const c = parseSweConfig({ tasks: ["t.jsonl"] });
    assert.equal(c.maxTurns, 30);
    assert.equal(c.wallTimeMs, 1_200_000);
    assert.equal(c.maxContextTokens, 32_768);
    assert.equal(c.maxFormatErrors, 3);
    assert.equal(c.toolTimeoutMs, undefined);
    assert.equal(c.maxObservationBytes, undefined);
    assert.equal(c.sandboxAddress, undefined);
  });

  const bad: Array<[unknown, RegExp]> = [
    [{}, /environment\.config\.tasks/],
    [{ tasks: [] }, /environment\.config\.tasks/],
    [{ tasks: ["x"], maxTurns: 0 }, /environment\.config\.maxTurns/],
    [{ tasks: ["x"], wallTimeMs: 1.5 }, /environment\.config\.wallTimeMs/],
    [{ tasks: ["x"], instances: [] }, /environment\.config\.instances/],
    [{ tasks: ["x"], maxTurn: 3 }, /environment\.config\.maxTurn: unknown field/],
  ];
  for (const [raw, pattern] of bad) {
    void it(`rejects ${JSON.stringify(raw)} naming the field`, () => {
      assert.throws(
        () => parseSweConfig(raw),
        (err: unknown) => err instanceof EnvironmentConfigError && pattern.test(err.message),
      );
    });
  }
});

void describe("swe task loading", () => {
  void it("resolves relative task paths against SLUICE_SPEC_DIR, else the cwd", () => {
    assert.equal(resolveTaskPath("../tasks", { SLUICE_SPEC_DIR: "/a/examples" }), "/a/tasks");
    assert.equal(resolveTaskPath("/abs/t.jsonl", { SLUICE_SPEC_DIR: "/a" }), "/abs/t.jsonl");
    assert.equal(resolveTaskPath("t.jsonl", {}), `${process.cwd()}/t.jsonl`);
  });

  void it("skips malformed tasks and tasks without an env block, keeping the rest", () => {
    const noEnv = rawTask("no-env");
    delete noEnv.env;
    const dir = writeTaskDir([rawTask("a"), "{not json", rawTask("b", { FAIL_TO_PASS: 3 }), noEnv, rawTask("c")]);
    const warnings: string[] = [];
    const logger = { warn: (msg: string) => void warnings.push(msg) } as unknown as Parameters<typeof loadSweTasks>[1];
    const tasks = loadSweTasks(parseSweConfig({ tasks: ["tasks.jsonl"] }), logger, { SLUICE_SPEC_DIR: dir });
    assert.deepEqual(
      tasks.map((t) => t.instance_id),
      ["a", "c"],
    );
    assert.equal(warnings.length, 3);
  });

  void it("filters by instance_id and rejects ids that are not in the set", () => {
    const dir = writeTaskDir([rawTask("a"), rawTask("b"), rawTask("c")]);
    const tasks = loadSweTasks(parseSweConfig({ tasks: [dir], instances: ["c", "a"] }));
    assert.deepEqual(
      tasks.map((t) => t.instance_id),
      ["a", "c"],
    );
    assert.throws(
      () => loadSweTasks(parseSweConfig({ tasks: [dir], instances: ["a", "zz"] })),
      /environment\.config\.instances: .*zz/,
    );
  });

  void it("fails clearly when no task is usable", () => {
    const dir = writeTaskDir(["{broken"]);
    assert.throws(
      () => loadSweTasks(parseSweConfig({ tasks: [dir] })),
      (err: unknown) =>
        err instanceof EnvironmentConfigError &&
        /environment\.config\.tasks: no usable tasks.*1 malformed/.test(err.message),
    );
    assert.throws(() => loadSweTasks(parseSweConfig({ tasks: ["/nonexistent/tasks"] })), /no usable tasks/);
  });

  void it("needs a sandbox address from the config or the runtime", () => {
    const dir = writeTaskDir([rawTask("a")]);
    assert.throws(() => sweEnvironment.bind({ tasks: [dir] }, 1), /environment\.config\.sandboxAddress/);
    const bound = sweEnvironment.bind({ tasks: [dir] }, 1, { sandboxAddress: "127.0.0.1:1" });
    assert.equal(bound.name, "swe");
    assert.equal(bound.taskSource.at(0).id, "a");
  });
});

void describe("swe task source", () => {
  const tasks = loadSweTasks(
    parseSweConfig({ tasks: [writeTaskDir(["a", "b", "c", "d", "e"].map((id) => rawTask(id)))] }),
  );

  void it("is a pure function of the seed and the index", () => {
    const ids = (seed: number) => Array.from({ length: 20 }, (_, i) => new SweTaskSource(tasks, seed).at(i).id);
    assert.deepEqual(ids(3), ids(3));
    assert.notDeepEqual(ids(3), ids(4));
    const src = new SweTaskSource(tasks, 3);
    assert.deepEqual(
      Array.from({ length: 20 }, () => src.next().id),
      ids(3),
    );
  });

  void it("visits every task once per epoch", () => {
    const src = new SweTaskSource(tasks, 9);
    for (let epoch = 0; epoch < 3; epoch++) {
      const seen = Array.from({ length: 5 }, (_, i) => src.at(epoch * 5 + i).id).sort();
      assert.deepEqual(seen, ["a", "b", "c", "d", "e"]);
    }
    const payload = src.at(0).payload as { instance_id: string };
    assert.equal(payload.instance_id, src.at(0).id);
  });
});
