import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeEntities, parseXml } from "./xml-tokenizer.js";

void describe("parseXml", () => {
  void test("reads elements, attributes in either quote, text, CDATA; skips comments and declarations", () => {
    const doc = parseXml(
      `<?xml version="1.0"?><!DOCTYPE x><!-- c --><a k="v>1" j='2'>t1<b/>t2<![CDATA[<raw> &amp;]]></a>`,
    );
    assert.deepEqual(doc.problems, []);
    const a = doc.roots[0];
    assert.equal(a?.name, "a");
    assert.deepEqual(a?.attrs, { k: "v>1", j: "2" });
    assert.equal(a?.text, "t1t2<raw> &amp;");
    assert.equal(a?.children[0]?.name, "b");
  });

  void test("recovers from a mismatched closing tag", () => {
    const doc = parseXml("<a><b></a></c>");
    assert.deepEqual(doc.problems, ["element <b> not closed", "closing tag </c> without an open element"]);
    assert.equal(doc.roots.length, 1);
  });
});

void describe("decodeEntities", () => {
  void test("decodes the predefined and numeric entities and leaves others", () => {
    assert.equal(decodeEntities("&lt;&gt;&amp;&quot;&apos;&#10;&#x41;&nbsp;&#xFFFFFFF;"), "<>&\"'\nA&nbsp;&#xFFFFFFF;");
  });
});
