// Hands tensors (weights, inputs) from a benchmark to its PyTorch reference script: <name>.bin
// holds the raw little-endian bytes, <name>.json the index and any extra metadata. Read back by
// load_tensors() in bench/llamagen_ref.py.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tidy, type Tensor } from '../src/torch/index.js';

export function writeTensors(dir: string, name: string, entries: [string, Tensor][], meta: Record<string, unknown> = {}): void {
  for (const [n, t] of entries)
    if (t.dtype !== 'float32' && t.dtype !== 'int64') throw new Error(`writeTensors: ${n} is ${t.dtype}; only float32 and int64 travel`);
  let offset = 0;
  const index = entries.map(([n, t]) => {
    const e = { name: n, shape: t.shape, dtype: t.dtype, offset };
    offset += t.numel * 8; // 8-byte aligned slots, whatever the dtype
    return e;
  });
  const blob = Buffer.alloc(offset);
  entries.forEach(([, t], i) => tidy(() => blob.set(t.contiguous().toBytes(), index[i]!.offset)));
  writeFileSync(join(dir, `${name}.bin`), blob);
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ ...meta, tensors: index }));
}

/** Value of `--name value` on the command line, if given. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Right-aligned table rows: the first column left-aligned. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
}
