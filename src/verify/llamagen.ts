// Recomputes every output recorded in a LlamaGen reference fixture (manifest.json + *.bin +
// gpt.pt/vq.pt) and reports the error of each against tolerance.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readBinArray, type BinArray } from '../io/fixture-bin.js';
import { readTextFileSync } from '../io/regular-file.js';
import { fromArray, noGrad, tidy } from '../torch/index.js';
import { gptConfigFromLlamaGen, loadGPT } from '../models/load-gpt.js';
import { generate } from '../models/generate.js';
import { loadVQModel } from '../tokenizer/load.js';
import { vqConfigFromLlamaGen } from '../tokenizer/vq-config.js';

export interface CheckResult {
  name: string;
  /** max |ours − reference|, or the count of differing entries for exact checks */
  error: number;
  tolerance: number;
  exact: boolean;
  ok: boolean;
}

interface Manifest {
  gpt_config?: Record<string, unknown>;
  gpt_greedy_cfg_scale?: number;
  vq_config?: Record<string, unknown>;
  tensors: Record<string, { dtype: string; shape: number[] }>;
}

export const LOGIT_TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? Infinity : m;
}
function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
const tol = (name: string, error: number, tolerance: number): CheckResult => ({
  name,
  error,
  tolerance,
  exact: false,
  ok: error <= tolerance,
});
const exact = (name: string, error: number): CheckResult => ({ name, error, tolerance: 0, exact: true, ok: error === 0 });

export function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${dir}: no manifest.json (expected a LlamaGen reference fixture folder)`);
  return JSON.parse(readTextFileSync(path, { what: 'a fixture manifest', maxBytes: 16 << 20 })) as Manifest;
}

function bin(dir: string, m: Manifest, name: string): BinArray {
  const spec = m.tensors[name];
  if (!spec) throw new Error(`${dir}/manifest.json: no entry for ${name}`);
  return readBinArray(join(dir, `${name}.bin`), spec);
}

export async function verifyGPT(dir: string, m: Manifest): Promise<CheckResult[]> {
  const model = await loadGPT(join(dir, 'gpt.pt'), gptConfigFromLlamaGen(m.gpt_config!));
  try {
    const cls = bin(dir, m, 'gpt_cls');
    const idx = bin(dir, m, 'gpt_idx');
    const ref = bin(dir, m, 'gpt_logits');
    const results: CheckResult[] = [];
    const logits = noGrad(() =>
      tidy(() => model.forward(fromArray(cls.data, cls.shape, 'int64'), fromArray(idx.data, idx.shape, 'int64')).toFloat32Array()),
    );
    results.push(tol('gpt_logits', maxAbsDiff(logits, ref.data), LOGIT_TOLERANCE));
    if (m.tensors.gpt_greedy_cfg) {
      const greedyRef = bin(dir, m, 'gpt_greedy_cfg');
      const tokens = tidy(() =>
        generate(model, fromArray(cls.data, cls.shape, 'int64'), {
          cfg: m.gpt_greedy_cfg_scale ?? 1,
          greedy: true,
          numTokens: greedyRef.shape[1],
        }).toInt32Array(),
      );
      results.push(exact('gpt_greedy_cfg', mismatches(tokens, greedyRef.data)));
    }
    return results;
  } finally {
    model.dispose();
  }
}

export async function verifyVQ(dir: string, m: Manifest): Promise<CheckResult[]> {
  const model = await loadVQModel(join(dir, 'vq.pt'), vqConfigFromLlamaGen(m.vq_config!));
  try {
    const image = bin(dir, m, 'vq_image');
    const codesRef = bin(dir, m, 'vq_codes');
    const decodedRef = bin(dir, m, 'vq_decoded');
    return noGrad(() =>
      tidy(() => {
        const codes = model.encode(fromArray(image.data, image.shape));
        const decoded = model.decodeCodes(fromArray(codesRef.data, codesRef.shape, 'int64'));
        return [
          exact('vq_codes', mismatches(codes.toInt32Array(), codesRef.data)),
          tol('vq_decoded', maxAbsDiff(decoded.toFloat32Array(), decodedRef.data), LOGIT_TOLERANCE),
        ];
      }),
    );
  } finally {
    model.dispose();
  }
}

/** Every check the fixture supports (GPT and VQ parts are each optional). */
export async function verifyLlamaGenFixture(dir: string): Promise<CheckResult[]> {
  const m = readManifest(dir);
  const results: CheckResult[] = [];
  if (m.gpt_config) results.push(...(await verifyGPT(dir, m)));
  if (m.vq_config) results.push(...(await verifyVQ(dir, m)));
  return results;
}
