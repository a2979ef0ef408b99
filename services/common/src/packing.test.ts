import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "./errors.js";
import { packFloat32, packInt32, packUint8, unpackFloat32, unpackInt32, unpackUint8 } from "./packing.js";

void describe("packed arrays", () => {
  void it("round-trips int32 values little-endian, including negatives and extremes", () => {
    const values = [0, 1, -1, 151_643, 2 ** 31 - 1, -(2 ** 31)];
    const bytes = packInt32(values);
    assert.equal(bytes.length, 24);
    assert.deepEqual([...bytes.subarray(4, 8)], [1, 0, 0, 0]);
    assert.deepEqual(unpackInt32(bytes), values);
  });

  void it("round-trips float32 values to float32 precision", () => {
    const values = [0, -0.5, 1.25, -12.75, Math.fround(0.1)];
    assert.deepEqual(unpackFloat32(packFloat32(values)), values);
  });

  void it("reads a view at a non-zero byte offset", () => {
    const buf = new Uint8Array(12);
    buf.set(packInt32([7, 8]), 4);
    assert.deepEqual(unpackInt32(buf.subarray(4)), [7, 8]);
    const fbuf = new Uint8Array(9);
    fbuf.set(packFloat32([2.5, -3]), 1);
    assert.deepEqual(unpackFloat32(fbuf.subarray(1)), [2.5, -3]);
  });

  void it("handles empty arrays", () => {
    assert.deepEqual(unpackInt32(packInt32([])), []);
    assert.deepEqual(unpackFloat32(new Uint8Array(0)), []);
    assert.deepEqual(unpackUint8(packUint8([])), []);
  });

  void it("rejects byte lengths that are not a multiple of 4, naming the field", () => {
    assert.throws(
      () => unpackInt32(new Uint8Array(5), "action_token_ids"),
      (e: unknown) => {
        return e instanceof ValidationError && /action_token_ids: byte length 5/.test(e.message);
      },
    );
    assert.throws(() => unpackFloat32(new Uint8Array(3)), ValidationError);
  });

  void it("round-trips masks one byte per token", () => {
    assert.deepEqual(unpackUint8(packUint8([1, 0, 1, 1])), [1, 0, 1, 1]);
  });
});
