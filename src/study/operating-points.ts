// Study v2, part A (no training): CTF against the baseline at each system's own best setting and at
// matched operating points, with reference rows and a breakdown of where CTF's FID is lost.
//
// Selection never sees the data it is reported on: the test split is cut in two (`validation`,
// `report`, e.g. fashion-mnist:test@0:5000 and @5000:10000). Every setting is chosen on the
// validation half; every headline number is measured against the report half.
//   1. reference rows: held-out real images (validation half) and their tokenizer reconstructions,
//      measured against the report half: the floor every generated row stands on;
//   2. a sweep of each system's CFG × stage-1 temperature on the validation half;
//   3. best against best: each system at its lowest validation FID, measured on the report half
//      with `headlineN` images for each of `seeds` (mean ± sd over seeds);
//   4. matched class accuracy: each system at the sweep point whose validation class accuracy is
//      nearest the other system's best-FID accuracy, on the report half;
//   5. where CTF's FID is lost: the true coarse maps of the validation images through stage 2
//      (sampled, argmax), and with each code replaced by a random member of its cluster; FID split
//      into its mean and covariance terms.
// Each measurement is a JSON file under `out`; finished ones are read back, so the study resumes.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { batches } from '../data/loader.js';
import { openDataset } from '../data/open.js';
import { Rng } from '../data/rng.js';
import { writeJsonAtomic } from '../io/index.js';
import { evaluateImages, networkInput, referenceStats, type EvaluationResult } from '../eval/metrics.js';
import { loadFeatureNetwork } from '../eval/load-feature-network.js';
import type { ReferenceStats } from '../eval/fid.js';
import type { FeatureNetwork } from '../eval/classifier.js';
import { refineImages } from '../sample/edit.js';
import { decodeTokenMaps, sampleImages, type SampledImages } from '../sample/images.js';
import { loadRun, type LoadedRun, type SystemKind } from '../run/load-run.js';
import { resolveSampling, type SamplingOverrides } from '../ctf/index.js';
import { encodeDataset } from '../tokenizer/encode-dataset.js';
import { checkSources } from './sources.js';
import type { OnProgress } from '../util/progress.js';

export interface OperatingPointsConfig {
  /** folder of the measurement files */
  out: string;
  runs: Record<SystemKind, string>;
  /** feature network (a ctfgen classifier) */
  classifier: string;
  /** held-out images settings are chosen on */
  validation: string;
  /** held-out images results are reported on (disjoint from validation) */
  report: string;
  cfg: number[];
  temperatures: number[];
  /** images per sweep point */
  sweepN: number;
  /** images per headline row and seed */
  headlineN: number;
  seeds: number[];
  batchSize?: number;
  /** folder for cached reference statistics */
  statsCache?: string;
  onProgress?: OnProgress;
}

export interface Measurement extends EvaluationResult {
  name: string;
  system?: SystemKind;
  settings?: SamplingOverrides & { seed: number };
  /** against: 'validation' or 'report' */
  against: 'validation' | 'report';
  /** seconds making the images (sampling and decoding; not the evaluation) */
  seconds: number;
}

export interface OperatingPointsResult {
  config: Omit<OperatingPointsConfig, 'onProgress'>;
  references: { real: Measurement; reconstruction: Measurement };
  sweep: Record<SystemKind, Measurement[]>;
  best: Record<SystemKind, { settings: SamplingOverrides; validation: Measurement; report: Measurement[] }>;
  matched: Record<SystemKind, { target: number; validation: Measurement; report: Measurement }>;
  breakdown: { stage2Sampled: Measurement; stage2Argmax: Measurement; randomMember: Measurement };
}

const SYSTEMS: SystemKind[] = ['ctf', 'baseline'];

/** Runs (or resumes) the whole study; returns every measurement. */
export async function runOperatingPoints(c: OperatingPointsConfig): Promise<OperatingPointsResult> {
  mkdirSync(c.out, { recursive: true });
  const { model: classifier } = await loadFeatureNetwork(c.classifier);
  const cacheDir = c.statsCache ?? join(c.out, 'stats');
  const refs = {
    validation: await referenceStats({ classifier, dataset: c.validation, cacheDir }),
    report: await referenceStats({ classifier, dataset: c.report, cacheDir }),
  };
  const runs = {} as Record<SystemKind, LoadedRun>;
  try {
    for (const s of SYSTEMS) runs[s] = await loadRun(c.runs[s], s);
    const total = 2 + SYSTEMS.length * (c.cfg.length * c.temperatures.length + c.seeds.length + 1) + 3;
    await checkSources(c.out, [c.runs.ctf, c.runs.baseline, c.classifier]);
    const measure = measurer({ out: c.out, classifier, refs, total, onProgress: c.onProgress });
    const generate = (s: SystemKind, n: number, settings: SamplingOverrides & { seed: number }) =>
      generated(runs[s], n, settings, c.batchSize);

    const ctf = runs.ctf;
    if (ctf.models.kind !== 'ctf') throw new Error(`${c.runs.ctf} is not a CTF run`);
    const codeToLabel = ctf.models.clusters.codeToLabel.toInt32Array();
    const fromValidation = heldOutImages(ctf, c.validation);

    const references = {
      real: await measure(
        'reference-real',
        'report',
        fromValidation((v) => v.images),
      ),
      reconstruction: await measure(
        'reference-reconstruction',
        'report',
        fromValidation((v) => decodeTokenMaps(ctf, v.codes)),
      ),
    };

    const sweep = {} as OperatingPointsResult['sweep'];
    for (const s of SYSTEMS) {
      sweep[s] = [];
      for (const cfg of c.cfg)
        for (const temperature of c.temperatures) {
          const settings = { cfg, temperature, seed: 0 };
          sweep[s].push(
            await measure(`sweep-${s}-cfg${cfg}-t${temperature}`, 'validation', generate(s, c.sweepN, settings), { system: s, settings }),
          );
        }
    }
    const settingsOf = (m: Measurement): SamplingOverrides => ({ cfg: m.settings!.cfg, temperature: m.settings!.temperature });
    const best = {} as OperatingPointsResult['best'];
    for (const s of SYSTEMS) {
      const v = sweep[s].reduce((a, b) => (b.fid < a.fid ? b : a));
      const report: Measurement[] = [];
      for (const seed of c.seeds) {
        const settings = { ...settingsOf(v), seed };
        report.push(await measure(`best-${s}-seed${seed}`, 'report', generate(s, c.headlineN, settings), { system: s, settings }));
      }
      best[s] = { settings: settingsOf(v), validation: v, report };
    }
    const matched = {} as OperatingPointsResult['matched'];
    for (const s of SYSTEMS) {
      const other = SYSTEMS.find((x) => x !== s)!;
      const target = best[other].validation.classAccuracy;
      const v = sweep[s].reduce((a, b) => (Math.abs(b.classAccuracy - target) < Math.abs(a.classAccuracy - target) - 1e-12 ? b : a));
      const settings = { ...settingsOf(v), seed: c.seeds[0]! };
      const report = await measure(`matched-${s}`, 'report', generate(s, c.headlineN, settings), { system: s, settings });
      matched[s] = { target, validation: v, report };
    }

    const stage2 = (name: string, sampling: SamplingOverrides) => measureStage2Alone(measure, fromValidation, ctf, name, sampling);
    const breakdown = {
      stage2Sampled: await stage2('breakdown-true-coarse-stage2-sampled', {}),
      stage2Argmax: await stage2('breakdown-true-coarse-stage2-argmax', { stage2: { topK: 1 } }),
      randomMember: await measure(
        'breakdown-true-coarse-random-member',
        'report',
        fromValidation((v) => decodeTokenMaps(ctf, randomMembers(v.coarse, codeToLabel, 0))),
      ),
    };
    const { onProgress: _p, ...config } = c;
    return { config, references, sweep, best, matched, breakdown };
  } finally {
    Object.values(runs).forEach((r) => r.dispose());
    classifier.dispose();
  }
}

export type Measure = (
  name: string,
  against: 'validation' | 'report',
  make: () => Drawn | Promise<Drawn>,
  about?: Pick<Measurement, 'system' | 'settings'>,
) => Promise<Measurement>;

/** Images to measure, with their class labels. */
export interface Drawn {
  images: SampledImages;
  labels: Int32Array;
}

/**
 * A measurement by name: read back when an earlier run wrote `<out>/<name>.json`, else the images
 * `make` draws are evaluated against the named reference and the result saved (atomically), so a
 * study resumes where it stopped.
 */
export function measurer(o: {
  out: string;
  classifier: FeatureNetwork;
  refs: Record<'validation' | 'report', ReferenceStats>;
  total: number;
  onProgress?: OnProgress;
}): Measure {
  let done = 0;
  mkdirSync(o.out, { recursive: true });
  return async (name, against, make, about = {}) => {
    const file = join(o.out, `${name}.json`);
    let m: Measurement | null = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Measurement) : null;
    // a file made for other settings under this name (the choice on the validation range moved) is measured again
    const request = (x: Pick<Measurement, 'system' | 'settings'>): unknown =>
      JSON.parse(JSON.stringify({ system: x.system, settings: x.settings }));
    if (m && !isDeepStrictEqual(request(about), request(m))) m = null;
    if (!m) {
      const t0 = performance.now();
      const { images, labels } = await make();
      const seconds = (performance.now() - t0) / 1000;
      const r = await evaluateImages({
        images: networkInput(images.images, images.shape, o.classifier.config),
        labels,
        classifier: o.classifier,
        referenceStats: o.refs[against],
      });
      // as the file holds it (NaN → null), so a resumed run sees exactly what a fresh one saw
      m = JSON.parse(JSON.stringify({ ...r, ...about, name, against, seconds })) as Measurement;
      await writeJsonAtomic(file, m, { indent: 2 });
    }
    o.onProgress?.({ phase: 'measurements', done: ++done, total: o.total, info: { fid: m.fid } });
    return m;
  };
}

/** `n` images of a run, classes in turn (0, 1, …, 0, 1, …), drawn with these settings. */
export function generated(run: LoadedRun, n: number, settings: SamplingOverrides & { seed: number }, batchSize = 100) {
  return (): Drawn => {
    const labels = Int32Array.from({ length: n }, (_, i) => i % run.info.numClasses);
    const { seed, ...sampling } = settings;
    return { images: sampleImages(run, { classes: labels, seed, sampling, batchSize }), labels };
  };
}

export interface HeldOutSet {
  /** the images in the generators' pixel space */
  images: SampledImages;
  labels: Int32Array;
  /** their fine-token maps and (through a CTF run's clusters; empty for a baseline run) coarse maps */
  codes: Int32Array;
  coarse: Int32Array;
}

/**
 * Images made from a held-out set (`spec`) of a run's data: `images(set)` turns the set into the
 * images to measure. The set is read and encoded once, and only when a measurement still to be made
 * needs it (not on a resume).
 */
export function heldOutImages(run: LoadedRun, spec: string) {
  const codeToLabel = run.models.kind === 'ctf' ? run.models.clusters.codeToLabel.toInt32Array() : null;
  let held: HeldOutSet | null = null;
  const read = (): HeldOutSet => {
    if (held) return held;
    const tok = run.tokenizer;
    const ds = openDataset(spec);
    const { n, c, h, w, images, labels } = batches(ds, { batchSize: ds.length, shuffle: false, transform: tok.transform }).next().value!;
    const codes = encodeDataset(tok, spec, { flip: false }).codes;
    const real = { images, shape: [n, c, h, w] as SampledImages['shape'], tokens: codes, seconds: { stage1: 0, stage2: 0, decode: 0 } };
    const coarse = codeToLabel ? codes.map((code) => codeToLabel[code]!) : new Int32Array(0);
    return (held = { images: real, labels: Int32Array.from(labels), codes, coarse });
  };
  return (images: (v: HeldOutSet) => SampledImages) => () => {
    const v = read();
    return { images: images(v), labels: v.labels };
  };
}

/** A CTF run's stage 2 alone: the true coarse maps of the held-out images through it (seed 0), measured against the report set. */
export function measureStage2Alone(
  measure: Measure,
  fromHeldOut: ReturnType<typeof heldOutImages>,
  ctf: LoadedRun,
  name: string,
  sampling: SamplingOverrides,
): Promise<Measurement> {
  return measure(
    name,
    'report',
    fromHeldOut((v) => refineImages(ctf, { classes: v.labels, coarse: v.coarse, seed: 0, sampling })),
    { system: 'ctf', settings: { ...sampling, seed: 0 } },
  );
}

/** Each coarse label replaced by a code drawn uniformly from its cluster (seeded). */
export function randomMembers(coarse: Int32Array, codeToLabel: Int32Array, seed: number): Int32Array {
  const members: number[][] = [];
  codeToLabel.forEach((label, code) => (members[label] ??= []).push(code));
  const rng = new Rng(seed, 0x4d454d42); // "MEMB"
  return coarse.map((label) => {
    const m = members[label];
    if (!m) throw new Error(`coarse label ${label} has no codes`);
    return m[rng.int(m.length)]!;
  });
}

/** The settings a measurement was made with, as a short label. */
export function settingsLabel(m: Measurement): string {
  const s = resolveSampling(m.settings ?? {});
  return `CFG ${s.cfg}, τ ${s.temperature}`;
}
