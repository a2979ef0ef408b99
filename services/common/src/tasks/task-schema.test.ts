import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { REPO_ROOT } from "../paths.js";
import { TaskFormatError } from "./task-error.js";
import { parseTask, taskToJson, type SweTask } from "./task-schema.js";

// Upstream fixtures copied verbatim into the repo (fixtures/swe-format/README.md: provenance, MIT).
const FIXTURES = join(REPO_ROOT, "fixtures", "swe-format");

function readJson(rel: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, rel), "utf8")) as unknown;
}

function asArray(doc: unknown): unknown[] {
  assert.ok(Array.isArray(doc));
  return doc as unknown[];
}

/** A valid minimal task; tests override fields to make it invalid. */
function baseTask(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instance_id: "npm__qs-1",
    repo: "npm/qs",
    base_commit: "0".repeat(40),
    patch: "diff --git a/lib/parse.js b/lib/parse.js\n",
    problem_statement: "parse() drops keys",
    created_at: "2024-01-01T00:00:00Z",
    FAIL_TO_PASS: ["test/parse.js::parse()"],
    PASS_TO_PASS: [],
    ...overrides,
  };
}

const NPM_ENV = {
  kind: "npm",
  package: "qs",
  version: "6.13.0",
  integrity: "sha512-abcDEF0123+/=",
  dependencies: { tape: "5.8.1" },
  test_command: ["tape"],
  test_files: ["test/parse.js"],
  hidden_paths: ["test/parse.js"],
};

function formatError(raw: unknown, where = { file: "t.jsonl", line: 3 }): TaskFormatError {
  try {
    parseTask(raw, where);
  } catch (err) {
    assert.ok(err instanceof TaskFormatError, `expected TaskFormatError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the task to be rejected");
}

function roundTrip(task: SweTask): SweTask {
  return parseTask(JSON.parse(taskToJson(task)) as unknown, { file: "<round-trip>" });
}

void describe("parseTask on upstream files", () => {
  void test("reads SWE-bench Lite instances with array test lists", () => {
    const raws = asArray(readJson("swe-agent/swe-bench-lite-test.json"));
    const tasks = raws.map((raw, index) => parseTask(raw, { file: "lite.json", index }));
    assert.equal(tasks.length, 5);
    const django = tasks[0];
    assert.ok(django);
    assert.equal(django.instance_id, "django__django-16255");
    assert.equal(django.FAIL_TO_PASS.length, 1);
    assert.equal(django.PASS_TO_PASS.length, 36);
    assert.equal(django.version, "4.2");
    assert.equal(django.env, undefined);
    assert.deepEqual(django.extra, {});
  });

  void test("keeps the unknown keys query and task_id in extra", () => {
    const [raw] = asArray(readJson("swe-agent/swe-bench-dev-easy_first_only.json"));
    const task = parseTask(raw, { file: "dev.json", index: 0 });
    assert.deepEqual(Object.keys(task.extra).sort(), ["query", "task_id"]);
    assert.equal(task.extra.task_id, "pydicom__pydicom-1458");
    assert.equal(task.hints_text, "");
  });

  void test("defaults the keys a SWE-smith instance lacks and keeps image_name", () => {
    const task = parseTask(readJson("swe-smith/pandas-dev__pandas.95280573.pr_53652.json"), { file: "smith.json" });
    assert.equal(task.test_patch, "");
    assert.equal(task.hints_text, "");
    assert.equal(task.version, "");
    assert.equal(task.environment_setup_commit, "");
    assert.equal(task.image_name, "swesmith.x86_64.pandas-dev__pandas.95280573");
    assert.equal(task.FAIL_TO_PASS.length, 2);
    assert.equal(task.PASS_TO_PASS.length, 9);
  });

  void test("round-trips every fixture task through taskToJson", () => {
    const raws = [
      ...asArray(readJson("swe-agent/swe-bench-lite-test.json")),
      ...asArray(readJson("swe-agent/swe-bench-dev-easy_first_only.json")),
      readJson("swe-smith/pandas-dev__pandas.95280573.pr_53652.json"),
    ];
    for (const raw of raws) {
      const task = parseTask(raw, { file: "x" });
      assert.deepEqual(roundTrip(task), task);
    }
  });
});

void describe("parseTask fields", () => {
  void test("decodes JSON-encoded test lists (Hugging Face style)", () => {
    const task = parseTask(baseTask({ FAIL_TO_PASS: '["a::b", "c::d"]', PASS_TO_PASS: "[]" }), { file: "hf" });
    assert.deepEqual(task.FAIL_TO_PASS, ["a::b", "c::d"]);
    assert.deepEqual(task.PASS_TO_PASS, []);
  });

  void test("turns null optional SWE-bench keys into empty strings", () => {
    const task = parseTask(baseTask({ hints_text: null, version: null }), { file: "hf" });
    assert.equal(task.hints_text, "");
    assert.equal(task.version, "");
  });

  void test("fills env defaults and round-trips a task with env and extra", () => {
    const task = parseTask(baseTask({ env: NPM_ENV, source: { mined: true } }), { file: "npm.json" });
    assert.ok(task.env);
    assert.equal(task.env.result_parser, "tap");
    assert.deepEqual(task.env.timeouts, { install_ms: 300_000, test_ms: 60_000 });
    assert.equal(task.env.setup_patch, "");
    assert.deepEqual(task.env.install_steps, []);
    assert.deepEqual(task.extra, { source: { mined: true } });
    assert.deepEqual(roundTrip(task), task);
  });
});

void describe("parseTask errors", () => {
  void test("a missing instance_id names the field and the location", () => {
    const raw = baseTask();
    delete raw.instance_id;
    const err = formatError(raw);
    assert.equal(err.field, "instance_id");
    assert.equal(err.file, "t.jsonl");
    assert.equal(err.line, 3);
    assert.equal(err.instanceId, undefined);
    assert.match(err.message, /^t\.jsonl:3: instance_id: /);
  });

  void test("FAIL_TO_PASS as a string that is not a JSON array is rejected", () => {
    const err = formatError(baseTask({ FAIL_TO_PASS: "test/parse.js::parse()" }));
    assert.equal(err.field, "FAIL_TO_PASS");
    assert.equal(err.instanceId, "npm__qs-1");
    assert.match(err.detail, /array of test ids/);
    assert.match(err.message, /\(instance_id npm__qs-1\)/);
  });

  void test("a non-string test id names its index", () => {
    const err = formatError(baseTask({ PASS_TO_PASS: ["a", "b", "c", 4] }));
    assert.equal(err.field, "PASS_TO_PASS[3]");
  });

  void test("a wrong type inside env names the nested field", () => {
    const err = formatError(baseTask({ env: { ...NPM_ENV, timeouts: { test_ms: "60s" } } }));
    assert.equal(err.field, "env.timeouts.test_ms");
  });

  void test("a misspelt env key is an error naming the key", () => {
    const err = formatError(baseTask({ env: { ...NPM_ENV, test_file: ["x.js"] } }));
    assert.equal(err.field, "env.test_file");
    assert.equal(err.detail, "unknown field");
  });

  void test("an unknown env kind names env.kind", () => {
    const err = formatError(baseTask({ env: { ...NPM_ENV, kind: "pip" } }));
    assert.equal(err.field, "env.kind");
  });

  void test("hidden paths and test files may not leave the workspace", () => {
    assert.equal(formatError(baseTask({ env: { ...NPM_ENV, hidden_paths: ["../etc"] } })).field, "env.hidden_paths[0]");
    assert.equal(formatError(baseTask({ env: { ...NPM_ENV, test_files: ["/abs.js"] } })).field, "env.test_files[0]");
  });

  void test("dependency versions must be exact", () => {
    const err = formatError(baseTask({ env: { ...NPM_ENV, dependencies: { tape: "^5.8.1" } } }));
    assert.equal(err.field, "env.dependencies.tape");
  });

  void test("lists every problem, first one in field", () => {
    const err = formatError(baseTask({ repo: 1, patch: 2 }));
    assert.deepEqual(
      err.issues.map((i) => i.field),
      ["repo", "patch"],
    );
    assert.equal(err.field, "repo");
  });

  void test("a value that is not an object is a root error", () => {
    const err = formatError([1, 2], { file: "a.json", line: 1 });
    assert.equal(err.field, "(root)");
    assert.match(err.detail, /got an array/);
  });
});
