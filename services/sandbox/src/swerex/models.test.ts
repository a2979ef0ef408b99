import { test } from "node:test";
import assert from "node:assert/strict";
import { commandArgv } from "./commands.js";
import { SwerexHttpError } from "./errors.js";
import { parseAction, parseCommand, parseCreateSession } from "./models.js";
import { pyRepr } from "./py-format.js";

void test("applies SWE-ReX's defaults", () => {
  assert.deepEqual(parseCreateSession({}), { session: "default", startupSource: [], startupTimeout: 1.0 });
  const action = parseAction({ command: "ls" });
  assert.equal(action.actionType, "bash");
  if (action.actionType !== "bash") return;
  assert.equal(action.check, "raise");
  assert.equal(action.session, "default");
  assert.equal(action.timeout, undefined);
  assert.deepEqual(parseAction({ action_type: "bash_interrupt" }), {
    actionType: "bash_interrupt",
    session: "default",
  });
  const cmd = parseCommand({ command: ["ls"] });
  assert.equal(cmd.shell, false);
  assert.equal(cmd.check, false);
});

void test("lists every invalid field in one FastAPI-style 422", () => {
  try {
    parseAction({ timeout: "soon", check: "maybe" });
    assert.fail("accepted an invalid action");
  } catch (err) {
    assert.ok(err instanceof SwerexHttpError);
    assert.equal(err.status, 422);
    assert.ok(Array.isArray(err.detail));
    assert.deepEqual(
      err.detail.map((d) => [d.type, d.loc.join(".")]),
      [
        ["missing", "body.command"],
        ["float_type", "body.timeout"],
        ["literal_error", "body.check"],
      ],
    );
  }
  assert.throws(() => parseCommand([]), SwerexHttpError);
});

void test("builds argv with subprocess.run semantics", () => {
  const base = {
    timeout: undefined,
    check: false,
    errorMsg: "",
    env: undefined,
    cwd: undefined,
    mergeOutputStreams: false,
  };
  assert.deepEqual(commandArgv({ ...base, command: "echo hi", shell: true }), ["/bin/bash", "-c", "echo hi"]);
  assert.deepEqual(commandArgv({ ...base, command: ["ls", "-l"], shell: false }), ["ls", "-l"]);
  assert.deepEqual(commandArgv({ ...base, command: "my prog", shell: false }), ["my prog"]);
  assert.deepEqual(commandArgv({ ...base, command: ["true"], shell: false, env: { A: "1" } }), [
    "/usr/bin/env",
    "-i",
    "--",
    "A=1",
    "true",
  ]);
  const wrapped = commandArgv({ ...base, command: ["true"], shell: false, cwd: "/w", mergeOutputStreams: true });
  assert.deepEqual(wrapped.slice(3), ["sh", "/w", "true"]);
  assert.match(wrapped[2] ?? "", /2>&1/);
});

void test("formats strings like Python's repr", () => {
  assert.equal(pyRepr("a\nb"), "'a\\nb'");
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr(`'"`), `'\\'"'`);
});
