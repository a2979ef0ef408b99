import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCliArgs } from "./args.js";
import { UsageError } from "./errors.js";

void test("parses up with every option", () => {
  const a = parseCliArgs([
    "up",
    "-f",
    "x.yaml",
    "--steps",
    "3",
    "--seed",
    "7",
    "--run-dir",
    "/tmp/r",
    "--max-restarts",
    "4",
    "--keep-nats-store",
  ]);
  assert.deepEqual(a, {
    command: "up",
    file: "x.yaml",
    steps: 3,
    seed: 7,
    runDir: "/tmp/r",
    maxRestarts: 4,
    keepNatsStore: true,
  });
});

void test("no command or --help means help", () => {
  assert.deepEqual(parseCliArgs([]), { command: "help" });
  assert.deepEqual(parseCliArgs(["--help"]), { command: "help" });
});

void test("rejects unknown flags, missing -f, bad numbers and unknown commands", () => {
  assert.throws(() => parseCliArgs(["up", "-f", "x", "--bogus"]), UsageError);
  assert.throws(() => parseCliArgs(["up"]), /missing -f/);
  assert.throws(() => parseCliArgs(["validate"]), /missing -f/);
  assert.throws(() => parseCliArgs(["up", "-f", "x", "--steps", "0"]), /--steps/);
  assert.throws(() => parseCliArgs(["up", "-f", "x", "--steps", "2.5"]), /--steps/);
  assert.throws(() => parseCliArgs(["up", "-f", "x", "extra"]), UsageError);
  assert.throws(() => parseCliArgs(["launch"]), /unknown command/);
  assert.throws(() => parseCliArgs(["up", "-f", "x", "--max-restarts", "-1"]), /--max-restarts/);
});
