import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { globToRegExp, selectFiles } from "./glob.js";

void describe("globs", () => {
  void test("* stays in a segment, ** spans directories", () => {
    assert.equal(globToRegExp("lib/*.js").test("lib/parse.js"), true);
    assert.equal(globToRegExp("lib/*.js").test("lib/sub/parse.js"), false);
    assert.equal(globToRegExp("test/**").test("test/browser/dom.js"), true);
    assert.equal(globToRegExp("test/**/*.js").test("test/a.js"), true);
    assert.equal(globToRegExp("index.js").test("indexXjs"), false);
  });

  void test("selects includes minus excludes, sorted", () => {
    const files = ["test/z.js", "test/browser/dom.js", "dist/qs.js", "lib/a.js", "test/a.js", "test/fixture.json"];
    assert.deepEqual(selectFiles(files, ["test/**/*.js"], ["test/browser/**"]), ["test/a.js", "test/z.js"]);
  });
});
