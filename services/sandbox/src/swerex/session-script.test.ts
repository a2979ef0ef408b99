import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SESSION_SCRIPT,
  buildPrologue,
  parseDump,
  sessionStdin,
  shellQuote,
  sideChannelNoise,
  type SessionState,
} from "./session-script.js";

const NONCE = "abc123";

function record(fields: string[], count = fields.length - 4): string {
  return `noise\nBEGIN-${NONCE}\0${fields.join("\0")}\0END-${NONCE}\0${count}\n`;
}

/** Runs the session script with the host's bash (no sandbox), as the backend would. */
function runHost(state: SessionState | undefined, command: string): { out: string; side: string; status: number } {
  const r = spawnSync("/bin/bash", ["-c", SESSION_SCRIPT, "sluice-session", NONCE], {
    input: sessionStdin(state, command),
    env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent", KEEP: "base" },
    timeout: 10_000,
  });
  return { out: r.stdout.toString(), side: r.stderr.toString(), status: r.status ?? -1 };
}

void describe("session state parsing", () => {
  void test("parses exit code, cwd, carried options and exported variables", () => {
    const side = record([
      "run",
      "3",
      "/workspace/src",
      "set -o errexit\nset +o monitor\nset -o pipefail",
      "A=1",
      "B=x=y\nz",
    ]);
    const dump = parseDump(side, NONCE);
    assert.deepEqual(dump, {
      kind: "run",
      exitCode: 3,
      state: {
        cwd: "/workspace/src",
        env: [
          ["A", "1"],
          ["B", "x=y\nz"],
        ],
        options: ["set -o errexit", "set -o pipefail"],
      },
    });
    assert.equal(sideChannelNoise(side, NONCE), "noise");
  });

  void test("drops variables bash maintains itself", () => {
    const dump = parseDump(
      record(["run", "0", "/workspace", "", "PWD=/x", "SHLVL=2", "_=/usr/bin/env", "OK=1"]),
      NONCE,
    );
    assert.deepEqual(dump?.state.env, [["OK", "1"]]);
  });

  void test("rejects a missing, foreign or damaged record", () => {
    assert.equal(parseDump("no record here", NONCE), undefined);
    assert.equal(parseDump(record(["run", "0", "/workspace", ""]), "other-nonce"), undefined);
    // The output cap replaced part of the record: the variable count no longer matches.
    assert.equal(parseDump(record(["run", "0", "/workspace", "", "A=1"], 2), NONCE), undefined);
    assert.equal(parseDump(record(["run", "x", "/workspace", ""]), NONCE), undefined);
    assert.equal(parseDump(record(["weird", "0", "/workspace", ""]), NONCE), undefined);
    assert.equal(parseDump(`BEGIN-${NONCE}\0run\0 0\0/workspace`, NONCE), undefined);
  });

  void test("quotes values for bash", () => {
    assert.equal(shellQuote("it's $HOME"), `'it'\\''s $HOME'`);
    const prologue = buildPrologue({ cwd: "/workspace/a b", env: [["X", "'; rm -rf /"]], options: [] });
    assert.match(prologue, /export X=''\\''; rm -rf \/'/);
    assert.match(prologue, /cd -- '\/workspace\/a b'/);
    assert.equal(buildPrologue(undefined), "");
  });
});

void describe("session script under bash", () => {
  void test("carries cwd, exports, unsets and options across calls", () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-session-"));
    try {
      const first = runHost(
        undefined,
        `cd ${shellQuote(dir)}; export FOO='a b'; unset KEEP; set -o pipefail; echo hi; echo err >&2`,
      );
      assert.equal(first.out, "hi\nerr\n");
      const s1 = parseDump(first.side, NONCE);
      assert.ok(s1, first.side);
      assert.equal(s1.exitCode, 0);
      assert.equal(s1.state.cwd, dir);
      assert.ok(s1.state.env.some(([n, v]) => n === "FOO" && v === "a b"));
      assert.ok(!s1.state.env.some(([n]) => n === "KEEP"));
      assert.ok(s1.state.options.includes("set -o pipefail"));

      const second = runHost(s1.state, 'pwd; echo "$FOO|${KEEP-unset}"; set -o | grep pipefail; exit 4');
      assert.equal(second.out, `${dir}\na b|unset\npipefail       \ton\n`);
      assert.equal(parseDump(second.side, NONCE)?.exitCode, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test("reports a syntax error without running anything", () => {
    const r = runHost(undefined, "echo ran-before; if then");
    const dump = parseDump(r.side, NONCE);
    assert.equal(dump?.kind, "syntax");
    assert.equal(dump.exitCode, 2);
    assert.doesNotMatch(r.out, /^ran-before$/m);
    assert.match(r.out, /syntax error/);
  });

  void test("keeps its side channel when the command closes or reuses low fds", () => {
    const r = runHost(undefined, "exec 3>&- 4>/dev/null 9>&-; export Z=ok; echo fine");
    assert.equal(r.out, "fine\n");
    assert.ok(parseDump(r.side, NONCE)?.state.env.some(([n, v]) => n === "Z" && v === "ok"));
  });

  void test("still dumps state after set -e stops the command", () => {
    const r = runHost(undefined, "set -e; export Y=1; false; echo unreachable");
    const dump = parseDump(r.side, NONCE);
    assert.equal(dump?.exitCode, 1);
    assert.ok(dump.state.env.some(([n]) => n === "Y"));
    assert.ok(dump.state.options.includes("set -o errexit"));
    assert.equal(r.out, "");
  });
});
