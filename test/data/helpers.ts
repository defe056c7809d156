/** Test helpers: a minimal PNG writer (any colour type, incl. palette) and temp dirs. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG chunk: length, type, data, CRC. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PngSpec {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth?: 8 | 16;
  /** Samples row-major, interleaved, one number per sample (palette: index). */
  samples: ArrayLike<number>;
  /** Palette as [r, g, b] triples. */
  palette?: [number, number, number][];
  /** Palette alpha per entry (tRNS). */
  paletteAlpha?: number[];
}

/** Encodes a PNG by hand (filter type 0 on every row). */
export function makePng(spec: PngSpec): Buffer {
  const { width, height, colorType } = spec;
  const depth = spec.bitDepth ?? 8;
  const spp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  const bps = depth / 8;
  const rowBytes = 1 + width * spp * bps;
  const raw = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * spp; i++) {
      const v = spec.samples[y * width * spp + i];
      const o = y * rowBytes + 1 + i * bps;
      if (depth === 16) raw.writeUInt16BE(v, o);
      else raw[o] = v;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr)];
  if (spec.palette) parts.push(pngChunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.paletteAlpha) parts.push(pngChunk('tRNS', Uint8Array.from(spec.paletteAlpha)));
  parts.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** A fresh temp dir and a cleanup function. */
export function tempDir(prefix = 'ctfgen-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Solid grey PNG of the given size. */
export function greyPng(width: number, height: number, value: number): Buffer {
  return makePng({ width, height, colorType: 0, samples: new Array(width * height).fill(value) });
}
