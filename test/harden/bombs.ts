// Small files that declare or inflate to far more than they hold (decompression bombs), made in
// milliseconds: a deflate stream of N zero bytes is built from one 1 MiB full-flush segment
// (about 1 KB, self-contained because a full flush resets the window) repeated, then a final
// empty block.
import * as zlib from 'node:zlib';
import { pngChunk } from '../data/helpers.js';
import { tensorPickle, zipRecords } from '../io/helpers.js';

const MiB = 1 << 20;
const zeroSegment = zlib.deflateRawSync(Buffer.alloc(MiB), { finishFlush: zlib.constants.Z_FULL_FLUSH });
const finalBlock = zlib.deflateRawSync(Buffer.alloc(0));

/** Raw deflate of `prefix` then `zeroMiB` MiB of zero bytes. */
export function deflateWithZeros(prefix: Uint8Array, zeroMiB: number): Buffer {
  const head = prefix.length ? zlib.deflateRawSync(prefix, { finishFlush: zlib.constants.Z_FULL_FLUSH }) : Buffer.alloc(0);
  return Buffer.concat([head, ...Array<Buffer>(zeroMiB).fill(zeroSegment), finalBlock]);
}

/** A gzip file of `prefix` then `zeroMiB` MiB of zeros (CRC left 0: readers must stop long before the trailer). */
export function gzipWithZeros(prefix: Uint8Array, zeroMiB: number): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE((prefix.length + zeroMiB * MiB) >>> 0, 4);
  return Buffer.concat([header, deflateWithZeros(prefix, zeroMiB), trailer]);
}

/** A valid grey PNG of `width`×`height` black pixels, a few hundred KB for 20000×20000. */
export function pngBomb(width: number, height: number): Buffer {
  const rawBytes = height * (width + 1); // a filter byte per row, then the row
  const mib = Math.ceil(rawBytes / MiB);
  // zero rows padded to whole MiB (readers must refuse the image at its IHDR, before any of this)
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((mib * MiB) % 65521) << 16) | 1);
  const idat = Buffer.concat([Buffer.from([0x78, 0x01]), deflateWithZeros(new Uint8Array(0), mib), adler]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** A baseline JPEG header declaring `width`×`height` (no image data: readers must refuse it at the header). */
export function jpegDeclaring(width: number, height: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0, 11, 8, 0, 0, 0, 0, 1, 1, 0x11, 0]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

const stored = (name: string, data: Uint8Array) => ({ name, method: 0, body: data, crc: zlib.crc32(data) >>> 0, size: data.length });

/**
 * A torch.save zip of {'w': float32[12]} (48 bytes of data), whose storage record holds a
 * deflate stream of `zeroMiB` MiB of zeros and whose headers declare `declared` bytes for it.
 */
export function ptBomb(zeroMiB: number, declared: number): Buffer {
  return zipRecords([
    stored('archive/data.pkl', tensorPickle([12], [1], 0, 12)),
    { name: 'archive/data/0', method: 8, body: deflateWithZeros(new Uint8Array(0), zeroMiB), crc: 0, size: declared },
  ]);
}

/** A torch.save zip whose pickle record inflates to `zeroMiB` MiB (and declares so). */
export function picklePtBomb(zeroMiB: number): Buffer {
  return zipRecords([
    { name: 'archive/data.pkl', method: 8, body: deflateWithZeros(Buffer.from([0x80, 2]), zeroMiB), crc: 0, size: zeroMiB * MiB + 2 },
  ]);
}
