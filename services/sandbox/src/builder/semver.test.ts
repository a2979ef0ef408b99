import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareVersions, consecutivePairs, versionsBetween } from "./semver.js";

void describe("versions", () => {
  void test("orders releases numerically and pairs consecutive ones, skipping prereleases", () => {
    assert.ok(compareVersions("6.10.0", "6.9.9") > 0);
    const window = versionsBetween(["6.9.0", "6.10.1", "6.10.0", "6.11.0-rc.1", "6.11.0", "7.0.0"], "6.9.0", "6.11.0");
    assert.deepEqual(window, ["6.9.0", "6.10.0", "6.10.1", "6.11.0"]);
    assert.deepEqual(consecutivePairs(window), [
      ["6.9.0", "6.10.0"],
      ["6.10.0", "6.10.1"],
      ["6.10.1", "6.11.0"],
    ]);
  });
});
