import { test } from "node:test";
import assert from "node:assert/strict";
import { OutputCapture, truncationMarker } from "./output-capture.js";

void test("keeps output that fits unchanged", () => {
  const c = new OutputCapture(10);
  c.push(Buffer.from("hello"));
  c.push(Buffer.from("world"));
  assert.equal(c.truncated, false);
  assert.equal(c.result().toString(), "helloworld");
});

void test("keeps head and tail with a marker when output exceeds the limit", () => {
  const c = new OutputCapture(8);
  for (const chunk of ["abc", "defgh", "ijklmnop", "qrstuvwxyz"]) c.push(Buffer.from(chunk));
  assert.equal(c.truncated, true);
  assert.equal(c.totalBytes, 26);
  assert.equal(c.result().toString(), `abcd${truncationMarker(18)}wxyz`);
});

void test("tail stays correct across many small chunks", () => {
  const c = new OutputCapture(6);
  const text = "0123456789".repeat(50);
  for (const ch of text) c.push(Buffer.from(ch));
  assert.equal(c.result().toString(), `012${truncationMarker(text.length - 6)}789`);
});

void test("a single chunk larger than the limit is split into head and tail", () => {
  const c = new OutputCapture(4);
  c.push(Buffer.from("ABCDEFGHIJ"));
  assert.equal(c.result().toString(), `AB${truncationMarker(6)}IJ`);
});

void test("a zero limit keeps nothing but says how much was dropped", () => {
  const c = new OutputCapture(0);
  c.push(Buffer.from("xyz"));
  assert.equal(c.result().toString(), truncationMarker(3));
});
