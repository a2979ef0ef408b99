import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  loadsRunner,
  moduleSpecifiers,
  packageOfSpecifier,
  packagesLoadedBy,
  planTestDependencies,
} from "./test-deps.js";

const TEST_FILE = `'use strict';
var test = require('tape');
var inspect = require('object-inspect');
var hasSymbols = require('has-symbols/shams')();
var path = require('path');
var fs = require('node:fs');
var qs = require('../');
var utils = require('../lib/utils');
var scoped = require('@ljharb/thing/sub');
var dynamic = require(name);
test('x', function (t) { t.end(); });
`;

void describe("test dependency detection", () => {
  void test("finds every literal require, import and dynamic import", () => {
    assert.deepEqual(moduleSpecifiers(TEST_FILE, "test/x.js"), [
      "tape",
      "object-inspect",
      "has-symbols/shams",
      "path",
      "node:fs",
      "../",
      "../lib/utils",
      "@ljharb/thing/sub",
    ]);
    const esm =
      "import a from 'a';\nimport { b } from '@s/b/deep';\nexport * from 'c';\nconst d = await import('d');\n";
    assert.deepEqual(moduleSpecifiers(esm, "test/x.mjs"), ["a", "@s/b/deep", "c", "d"]);
  });

  void test("maps specifiers to packages and drops relative paths and builtins", () => {
    assert.equal(packageOfSpecifier("has-symbols/shams"), "has-symbols");
    assert.equal(packageOfSpecifier("@ljharb/thing/sub"), "@ljharb/thing");
    assert.equal(packageOfSpecifier("../lib/utils"), null);
    assert.equal(packageOfSpecifier("path"), null);
    assert.equal(packageOfSpecifier("fs/promises"), null);
    assert.equal(packageOfSpecifier("node:test"), null);
    assert.deepEqual(packagesLoadedBy([{ path: "test/x.js", code: TEST_FILE }]), [
      "@ljharb/thing",
      "has-symbols",
      "object-inspect",
      "tape",
    ]);
  });

  void test("takes ranges from the manifest, adds runtime deps and the runner, never the package itself", () => {
    const plan = planTestDependencies(
      {
        name: "qs",
        dependencies: { "side-channel": "^1.0.6" },
        devDependencies: { tape: "^5.8.1", "object-inspect": "^1.13.2", eslint: "=8.8.0", qs: "*" },
      },
      ["object-inspect", "qs", "mystery"],
      "tape",
    );
    assert.deepEqual(plan.ranges, {
      mystery: "*",
      "object-inspect": "^1.13.2",
      "side-channel": "^1.0.6",
      tape: "^5.8.1",
    });
    assert.deepEqual(plan.undeclared, ["mystery"]);
    assert.ok(!("eslint" in plan.ranges), "devDependencies the tests never load are not installed");
  });

  void test("a test entry point is a file that loads the runner", () => {
    assert.equal(loadsRunner(TEST_FILE, "test/x.js", "tape"), true);
    assert.equal(loadsRunner("module.exports = [1, 2];\n", "test/cases.js", "tape"), false);
  });
});
