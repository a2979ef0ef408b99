/**
 * Packed little-endian arrays as they travel in protos: token ids and versions as
 * int32, logprobs and advantages as float32, masks as one byte per token.
 */
import { ValidationError } from "./errors.js";

export function packInt32(values: ArrayLike<number>): Uint8Array {
  const buf = new Uint8Array(values.length * 4);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i] as number, true);
  return buf;
}

export function unpackInt32(bytes: Uint8Array, field = "int32 array"): number[] {
  if (bytes.length % 4 !== 0) {
    throw new ValidationError(`${field}: byte length ${bytes.length} is not a multiple of 4`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

export function packFloat32(values: ArrayLike<number>): Uint8Array {
  const buf = new Uint8Array(values.length * 4);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return buf;
}

export function unpackFloat32(bytes: Uint8Array, field = "float32 array"): number[] {
  if (bytes.length % 4 !== 0) {
    throw new ValidationError(`${field}: byte length ${bytes.length} is not a multiple of 4`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function packUint8(values: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(values as ArrayLike<number>);
}

export function unpackUint8(bytes: Uint8Array): number[] {
  return Array.from(bytes);
}
