import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { REPO_ROOT } from "../paths.js";
import { loadTaskFile, loadTaskSet, parseTaskText } from "./task-loader.js";

// Upstream fixtures copied verbatim into the repo (fixtures/swe-format/README.md: provenance, MIT).
const FIXTURES = join(REPO_ROOT, "fixtures", "swe-format");

const dir = mkdtempSync(join(tmpdir(), "sluice-tasks-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function task(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instance_id: id,
    repo: "npm/qs",
    base_commit: "0".repeat(40),
    patch: "diff --git a/x b/x\n",
    problem_statement: "broken",
    created_at: "2024-01-01T00:00:00Z",
    FAIL_TO_PASS: ["test/parse.js::parse()"],
    PASS_TO_PASS: [],
    ...overrides,
  };
}

function write(rel: string, text: string): string {
  const path = join(dir, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const line = (value: unknown): string => JSON.stringify(value);

void describe("loadTaskSet on upstream files", () => {
  void test("loads every .json in a directory, sorted, with array indexes", () => {
    const { tasks, errors } = loadTaskSet([join(FIXTURES, "swe-agent")]);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      tasks.map((t) => [t.task.instance_id, t.index]),
      [
        ["pydicom__pydicom-1458", 0],
        ["django__django-16255", 0],
        ["sympy__sympy-13031", 1],
        ["pytest-dev__pytest-11143", 2],
        ["scikit-learn__scikit-learn-13584", 3],
        ["django__django-15781", 4],
      ],
    );
    assert.ok(tasks.every((t) => t.line === undefined));
  });

  void test("reads a single-object SWE-smith file and ignores subdirectories", () => {
    const { tasks, errors } = loadTaskSet([join(FIXTURES, "swe-smith")]);
    assert.deepEqual(errors, []);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]?.task.image_name, "swesmith.x86_64.pandas-dev__pandas.95280573");
    assert.equal(tasks[0]?.index, undefined);
  });
});

void describe("malformed tasks", () => {
  void test("each bad JSONL line is an error naming line, task and field; the rest loads", () => {
    const path = write(
      "bad/mixed.jsonl",
      [
        line(task("good-1")),
        '{"instance_id": "broken-json", ',
        line({ ...task("x"), instance_id: undefined }),
        "",
        line(task("f2p-string", { FAIL_TO_PASS: "test/a.js::block" })),
        line(task("env-type", { env: { kind: "npm", package: "qs", version: 6 } })),
        line(task("good-2")),
      ].join("\n"),
    );
    const { tasks, errors } = loadTaskFile(path);
    assert.deepEqual(
      tasks.map((t) => [t.task.instance_id, t.line]),
      [
        ["good-1", 1],
        ["good-2", 7],
      ],
    );
    assert.deepEqual(
      errors.map((e) => [e.line, e.instanceId, e.field]),
      [
        [2, undefined, "(line)"],
        [3, undefined, "instance_id"],
        [5, "f2p-string", "FAIL_TO_PASS"],
        [6, "env-type", "env.version"],
      ],
    );
    assert.ok(errors.every((e) => e.file === path));
    assert.match(errors[3]?.message ?? "", /mixed\.jsonl:6 \(instance_id env-type\): env\.version: /);
  });

  void test("a bad element of a JSON array names its index", () => {
    const path = write("bad/array.json", JSON.stringify([task("a"), task("b", { PASS_TO_PASS: [1] }), task("c")]));
    const { tasks, errors } = loadTaskFile(path);
    assert.deepEqual(
      tasks.map((t) => t.task.instance_id),
      ["a", "c"],
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.index, 1);
    assert.equal(errors[0]?.field, "PASS_TO_PASS[0]");
  });

  void test("a broken JSON file is one error and the other files still load", () => {
    const set = join(dir, "set-broken");
    write("set-broken/a.json", '[\n  {"instance_id": "x",\n  oops\n]\n');
    write("set-broken/b.jsonl", line(task("b-1")) + "\n");
    write("set-broken/notes.txt", "not a task file");
    const { tasks, errors } = loadTaskSet([set]);
    assert.deepEqual(
      tasks.map((t) => t.task.instance_id),
      ["b-1"],
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.field, "(file)");
    assert.match(errors[0]?.message ?? "", /a\.json: \(file\): invalid JSON/);
  });

  void test("a duplicate instance_id is an error for the later occurrence", () => {
    const first = write("dup/1.jsonl", line(task("same")) + "\n");
    const second = write("dup/2.json", JSON.stringify([task("other"), task("same")]));
    const { tasks, errors } = loadTaskSet([first, second]);
    assert.deepEqual(
      tasks.map((t) => t.file),
      [first, second],
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.file, second);
    assert.equal(errors[0]?.index, 1);
    assert.equal(errors[0]?.instanceId, "same");
    assert.equal(errors[0]?.field, "instance_id");
    assert.match(errors[0]?.detail ?? "", /first defined at .*1\.jsonl:1/);
  });

  void test("a missing path or an empty directory is an error, not a throw", () => {
    mkdirSync(join(dir, "empty"), { recursive: true });
    const { tasks, errors } = loadTaskSet([join(dir, "nope.json"), join(dir, "empty")]);
    assert.equal(tasks.length, 0);
    assert.deepEqual(
      errors.map((e) => e.field),
      ["(file)", "(file)"],
    );
  });
});

void describe("parseTaskText", () => {
  void test("accepts one object, an array, or JSONL lines", () => {
    assert.equal(parseTaskText(line(task("one")), "inline").tasks[0]?.task.instance_id, "one");
    const arr = parseTaskText(JSON.stringify([task("a"), task("b")], null, 2), "inline");
    assert.deepEqual(
      arr.tasks.map((t) => t.index),
      [0, 1],
    );
    const jsonl = parseTaskText(`${line(task("a"))}\n${line(task("b"))}\n`, "inline");
    assert.deepEqual(
      jsonl.tasks.map((t) => t.line),
      [1, 2],
    );
  });

  void test("reports invalid JSON against the label", () => {
    const { tasks, errors } = parseTaskText("{nope", "--task FILE");
    assert.equal(tasks.length, 0);
    assert.equal(errors[0]?.file, "--task FILE");
    assert.equal(errors[0]?.field, "(file)");
  });
});
