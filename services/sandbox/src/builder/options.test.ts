import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseBuildOptions } from "./options.js";

void describe("tasks build options", () => {
  void test("defaults and overrides", () => {
    const d = parseBuildOptions([], "/repo");
    assert.equal(d.outDir, "/repo/tasks");
    assert.equal(d.jobs, 2);
    assert.deepEqual(
      d.recipes.map((r) => r.package),
      ["qs", "minimist", "object-inspect"],
    );
    assert.equal(d.maxCandidates, 6 * d.maxPerPackage);
    const o = parseBuildOptions(
      [
        "--out",
        "x",
        "--packages",
        "minimist",
        "--kinds",
        "synth",
        "--max-per-package",
        "3",
        "--seed",
        "s",
        "--jobs",
        "4",
        "--cache-dir",
        "/c",
      ],
      "/repo",
    );
    assert.equal(o.outDir, "/repo/x");
    assert.deepEqual([...o.kinds], ["synth"]);
    assert.equal(o.maxPerPackage, 3);
    assert.equal(o.maxCandidates, 18);
    assert.equal(o.cacheDir, "/c");
  });

  void test("rejects unknown packages, kinds, flags and non-positive numbers", () => {
    assert.throws(() => parseBuildOptions(["--packages", "left-pad"]), /no recipe for left-pad/);
    assert.throws(() => parseBuildOptions(["--kinds", "magic"]), /unknown kind/);
    assert.throws(() => parseBuildOptions(["--jobs", "0"]), /positive integer/);
    assert.throws(() => parseBuildOptions(["--bogus"]), /bogus/);
  });
});
