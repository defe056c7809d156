// Raw little-endian arrays described by a manifest entry ({dtype, shape}), as LlamaGen reference
// fixtures record their inputs and outputs.
import { readRegularFileSync } from './regular-file.js';

export interface BinArray {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Reads a regular file only, and only if it is as long as the manifest says. */
export function readBinArray(path: string, spec: { dtype: string; shape: number[] }): BinArray {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const buf = readRegularFileSync(path, { what: 'a fixture array', maxBytes: n * 4 });
  if (buf.byteLength !== n * 4)
    throw new Error(`${path}: ${buf.byteLength} bytes, manifest says ${spec.dtype}[${spec.shape}] (${n * 4} bytes)`);
  const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (spec.dtype === 'float32') return { shape: spec.shape, data: new Float32Array(bytes.buffer) };
  if (spec.dtype === 'int32') return { shape: spec.shape, data: new Int32Array(bytes.buffer) };
  throw new Error(`${path}: unsupported dtype ${spec.dtype} (float32 or int32)`);
}
