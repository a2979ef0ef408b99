import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { annotationKey, stepAnnotationKey } from "./annotation-key.js";

void describe("ONI annotation keys", () => {
  test("a key is the sha256 hex prefix of the text", () => {
    assert.equal(annotationKey("abc"), "ba7816bf8f01cfea414140de5dae2223");
    assert.equal(annotationKey("abc", 64), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("step keys depend on where observation ends and action begins", () => {
    const a = stepAnnotationKey({ observationText: "ab", actionText: "c" });
    const b = stepAnnotationKey({ observationText: "a", actionText: "bc" });
    assert.notEqual(a, b);
    assert.equal(a, stepAnnotationKey({ observationText: "ab", actionText: "c" }));
    assert.match(a, /^[0-9a-f]{32}$/);
  });
});
