// Evaluation of image files, the ADM evaluator's way round:
//   ctfgen eval --samples A.npz|<folder> [--reference B.npz|<folder>|<dataset spec>] [--classifier C]
//   ctfgen eval stats --data <dataset spec|npz|folder> --out ref.npz [--classifier C]
// A reference .npz may hold images (arr_0) or precomputed statistics in ADM's layout (mu, sigma;
// mu_s, sigma_s for sFID); ctfgen writes its statistics in that layout, plus `ctfgen_features`
// (the reference features, for precision/recall and KID) and `ctfgen_meta` (which network made
// them), arrays the ADM evaluator ignores. Statistics are only used with the network that made
// them: ctfgen's files say which; files without that record (ADM's own reference batches) are
// taken as Inception pool_3 / mixed_6 statistics and used only with Inception-v3 weights.
import { jsonArray, NpzFile, parseJsonArray, writeNpz, type NpzArrayInput } from '../io/index.js';
import { classifierId, type FeatureNetwork } from './classifier.js';
import { classifierForReference, resolveEvalDefaults, type EvalDefaults } from './eval-defaults.js';
import type { FeatureStats, ReferenceStats } from './fid.js';
import { imageFileBatches, isDirectory, isNpz, networkBatches, type ImageFileOptions } from './image-files-eval.js';
import { loadFeatureNetwork } from './load-feature-network.js';
import {
  collectOutputs,
  evaluateImages,
  referenceStats,
  saveReferenceOutputs,
  type EvaluationResult,
  type PrecisionRecallSets,
} from './metrics.js';

/** What ctfgen records inside the .npz files it writes (array `ctfgen_meta`, JSON bytes). */
export interface NpzMeta {
  kind: 'samples' | 'feature-stats';
  /** dataset spec the samples' run was trained on / the statistics describe */
  dataset?: string;
  classifierId?: string;
  [extra: string]: unknown;
}

export const NPZ_META = 'ctfgen_meta';
export const NPZ_FEATURES = 'ctfgen_features';

/** The ctfgen_meta of a .npz, or null (foreign file). */
export async function readNpzMeta(f: NpzFile): Promise<NpzMeta | null> {
  if (!f.has(NPZ_META)) return null;
  return parseJsonArray(await f.read(NPZ_META), `${f.label}: ${NPZ_META}`) as NpzMeta;
}

const float64Of = (a: { data: ArrayBufferView; dtype: string }, what: string): Float64Array => {
  if (a.dtype === 'float64') return a.data as Float64Array;
  if (a.dtype === 'float32') return Float64Array.from(a.data as Float32Array);
  throw new Error(`${what} is ${a.dtype}, not float`);
};

async function statsFrom(f: NpzFile, mu: string, sigma: string, n: number): Promise<FeatureStats> {
  const m = await f.read(mu);
  const s = await f.read(sigma);
  const d = m.shape[0] ?? 0;
  if (m.shape.length !== 1 || s.shape.length !== 2 || s.shape[0] !== d || s.shape[1] !== d)
    throw new Error(`${f.label}: ${mu} [${m.shape.join(', ')}] and ${sigma} [${s.shape.join(', ')}] are not a mean and its covariance`);
  return { n, dim: d, mean: float64Of(m, `${f.label}: ${mu}`), cov: float64Of(s, `${f.label}: ${sigma}`) };
}

/** Reference statistics from a .npz: its precomputed statistics where they belong to `network`, else its images. */
export async function readReferenceNpz(
  path: string,
  network: FeatureNetwork,
  o: ImageFileOptions = {},
): Promise<ReferenceStats & { note: string }> {
  const id = classifierId(network);
  const f = await NpzFile.open(path);
  let stats: FeatureStats | null = null;
  let spatial: FeatureStats | null = null;
  let features: Float32Array | null = null;
  let meta: NpzMeta | null;
  let hasImages: boolean;
  let refusal = '';
  try {
    meta = await readNpzMeta(f);
    hasImages = f.has('arr_0');
    const inception = network.datasetClasses === false && network.config.featureDim === 2048;
    if (f.has('mu') && f.has('sigma')) {
      if (meta?.classifierId !== undefined && meta.classifierId !== id)
        refusal = `its statistics were made with feature network ${meta.classifierId}, not ${id}`;
      else if (meta === null && !inception)
        refusal =
          'its statistics carry no record of their network (ADM reference batches hold Inception statistics: use Inception-v3 weights)';
      else {
        stats = await statsFrom(f, 'mu', 'sigma', Number(meta?.n ?? 0));
        if (stats.dim !== network.config.featureDim) {
          refusal = `its statistics have ${stats.dim} features, the network ${network.config.featureDim}`;
          stats = null;
        } else {
          if (f.has('mu_s') && f.has('sigma_s') && network.config.spatialDim !== undefined) {
            const s = await statsFrom(f, 'mu_s', 'sigma_s', stats.n);
            spatial = s.dim === network.config.spatialDim ? s : null;
          }
          if (f.has(NPZ_FEATURES)) features = (await f.read(NPZ_FEATURES)).data as Float32Array;
        }
      }
    }
  } finally {
    await f.close();
  }
  if (!stats && !hasImages)
    throw new Error(`${path} cannot serve as a reference: ${refusal || 'it holds neither images (arr_0) nor statistics (mu, sigma)'}`);
  const precomputed = stats
    ? meta
      ? `statistics of ${meta.dataset ?? path} from ${path}`
      : `precomputed Inception statistics of ${path} (ADM layout)`
    : '';
  let note = precomputed;
  if (hasImages && (!stats || !features)) {
    const out = await collectOutputs(network, networkBatches(imageFileBatches(path, o), network, false), undefined);
    const own = await saveReferenceOutputs(network, out, { dataset: path }, null);
    features = own.features;
    spatial ??= own.spatial;
    stats ??= own.stats;
    note = precomputed
      ? `${precomputed}; features of its arr_0 images for precision/recall and KID`
      : `statistics of the arr_0 images of ${path}`;
  }
  if (refusal) note += ` (its mu/sigma are not used: ${refusal})`;
  return {
    stats: stats!,
    spatial,
    features,
    meta: { kind: 'feature-stats', classifierId: id, dataset: path, n: stats!.n, dim: stats!.dim },
    note,
  };
}

export interface LoadReferenceOptions extends ImageFileOptions {
  /** folder of cached statistics for dataset specs */
  cacheDir?: string;
}

/** The reference of an evaluation: a .npz, an image folder, or a dataset spec (cached statistics). */
export async function loadReference(
  spec: string,
  network: FeatureNetwork,
  o: LoadReferenceOptions = {},
): Promise<ReferenceStats & { note: string }> {
  if (isNpz(spec)) return readReferenceNpz(spec, network, o);
  if (isDirectory(spec)) {
    const out = await collectOutputs(network, networkBatches(imageFileBatches(spec, o), network, false), undefined);
    return { ...(await saveReferenceOutputs(network, out, { dataset: spec }, null)), note: `statistics of the images in ${spec}` };
  }
  const r = await referenceStats({ classifier: network, dataset: spec, cacheDir: o.cacheDir });
  return { ...r, note: r.cached ? `cached statistics of ${spec} (${r.path})` : `statistics of ${spec}` };
}

/** The arrays of a reference-statistics .npz in ADM's layout (see the module comment). */
export function referenceArrays(ref: ReferenceStats, dataset: string): NpzArrayInput[] {
  const { stats, spatial, features } = ref;
  const arrays: NpzArrayInput[] = [
    { name: 'mu', dtype: 'float64', shape: [stats.dim], data: stats.mean },
    { name: 'sigma', dtype: 'float64', shape: [stats.dim, stats.dim], data: stats.cov },
  ];
  if (spatial)
    arrays.push(
      { name: 'mu_s', dtype: 'float64', shape: [spatial.dim], data: spatial.mean },
      { name: 'sigma_s', dtype: 'float64', shape: [spatial.dim, spatial.dim], data: spatial.cov },
    );
  if (features) arrays.push({ name: NPZ_FEATURES, dtype: 'float32', shape: [stats.n, stats.dim], data: features });
  const meta: NpzMeta = { kind: 'feature-stats', classifierId: ref.meta.classifierId, dataset, n: stats.n, dim: stats.dim };
  arrays.push(jsonArray(NPZ_META, meta));
  return arrays;
}

export interface StatsOptions extends ImageFileOptions {
  data: string;
  out: string;
  classifier?: string;
  statsCache?: string;
}

/** Reference statistics of a dataset, .npz or folder, written in ADM's layout (`ctfgen eval stats`). */
export async function writeReferenceStats(o: StatsOptions): Promise<ReferenceStats & { note: string; classifier: string }> {
  let classifier = o.classifier;
  if (!classifier) {
    if (isNpz(o.data) || isDirectory(o.data))
      throw new Error(`${o.data}: name the feature network with --classifier (a ctfgen classifier or Inception-v3 weights)`);
    classifier = (await classifierForReference(o.data)).classifier;
  }
  const { model } = await loadFeatureNetwork(classifier);
  try {
    const ref = await loadReference(o.data, model, { ...o, cacheDir: o.statsCache });
    await writeNpz(o.out, referenceArrays(ref, o.data));
    return { ...ref, classifier };
  } finally {
    model.dispose();
  }
}

export interface SamplesEvalOptions extends ImageFileOptions {
  samples: string;
  reference?: string;
  classifier?: string;
  statsCache?: string;
  prSets?: PrecisionRecallSets;
  /** told which classifier and reference the evaluation uses, and why */
  onDefaults?: (d: EvalDefaults) => void;
  /** told where the reference statistics come from */
  onNote?: (message: string) => void;
}

export interface SamplesEvaluation extends EvaluationResult {
  samples: string;
  reference: string;
  classifier: string;
}

/** The metrics of a .npz or image folder of samples against a reference (`ctfgen eval --samples`). */
export async function evaluateSamples(o: SamplesEvalOptions): Promise<SamplesEvaluation> {
  let meta: NpzMeta | null = null;
  if (isNpz(o.samples)) {
    const f = await NpzFile.open(o.samples);
    meta = await readNpzMeta(f).finally(() => f.close());
  }
  let d: EvalDefaults;
  if (meta?.dataset)
    d = await resolveEvalDefaults({
      dataset: meta.dataset,
      source: `samples ${o.samples}`,
      classifier: o.classifier,
      reference: o.reference,
    });
  else {
    if (!o.reference)
      throw new Error(
        `${o.samples} does not record what it was trained on; name the real images with --reference <dataset spec, .npz or folder>`,
      );
    const found = o.classifier ? null : await classifierForReference(o.reference);
    d = {
      reference: o.reference,
      classifier: o.classifier ?? found!.classifier,
      because: { reference: 'given with --reference', classifier: found ? found.because : 'given with --classifier' },
    };
  }
  o.onDefaults?.(d);
  const { model, id } = await loadFeatureNetwork(d.classifier);
  try {
    const ref = await loadReference(d.reference, model, { ...o, cacheDir: o.statsCache });
    o.onNote?.(`reference: ${ref.note}`);
    const ownClasses = model.datasetClasses !== false && (meta?.numClasses === undefined || meta.numClasses === model.config.numClasses);
    const m = await evaluateImages({
      images: networkBatches(imageFileBatches(o.samples, o), model, ownClasses),
      classifier: model,
      referenceStats: ref,
      precisionRecall: { sets: o.prSets },
    });
    return { ...m, samples: o.samples, reference: d.reference, classifier: id };
  } finally {
    model.dispose();
  }
}
