import { test } from "node:test";
import assert from "node:assert/strict";
import { SwerexHttpError } from "./errors.js";
import { formBool, multipartBoundary, parseMultipart } from "./multipart.js";

void test("splits a multipart/form-data body into named parts", async () => {
  const form = new FormData();
  form.append("file", new Blob([Buffer.from([0, 13, 10, 45, 45, 255])]), "data.bin");
  form.append("target_path", "/workspace/x");
  form.append("unzip", "false");
  const req = new Request("http://localhost/", { method: "POST", body: form });
  const boundary = multipartBoundary(req.headers.get("content-type") ?? undefined);
  const parts = parseMultipart(Buffer.from(await req.arrayBuffer()), boundary);
  assert.deepEqual(
    parts.map((p) => [p.name, p.filename, [...p.data]]),
    [
      ["file", "data.bin", [0, 13, 10, 45, 45, 255]],
      ["target_path", undefined, [...Buffer.from("/workspace/x")]],
      ["unzip", undefined, [...Buffer.from("false")]],
    ],
  );
});

void test("answers a malformed or non-multipart body with a 422", () => {
  assert.throws(() => multipartBoundary("application/json"), SwerexHttpError);
  assert.throws(() => parseMultipart(Buffer.from("no delimiter"), "b"), SwerexHttpError);
  assert.throws(
    () => parseMultipart(Buffer.from('--b\r\ncontent-disposition: form-data; name="a"\r\n\r\nunterminated'), "b"),
    SwerexHttpError,
  );
});

void test("parses form booleans like pydantic", () => {
  assert.equal(formBool("true"), true);
  assert.equal(formBool("1"), true);
  assert.equal(formBool("False"), false);
  assert.equal(formBool("maybe"), undefined);
});
