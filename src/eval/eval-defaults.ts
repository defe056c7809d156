// What `ctfgen eval` measures against when the user does not say: the reference and the feature
// network follow the dataset the run (or a samples file) recorded, never a fixed dataset.
//   reference: the part held out of the recorded training data (trained on <spec>@not-every:<n> →
//              <spec>@every:<n>), else the dataset's test split: a known one (fashion-mnist:train →
//              :test), else the test split recorded with the classifier trained on that dataset;
//              none → refused, naming --reference.
//   classifier: a feature classifier whose checkpoint records that training dataset (or a part of it), among the
//              package's shipped models/*-classifier.safetensors and a --classifier the user gave;
//              none → refused, naming the `ctfgen eval classifier train` command that makes one.
// Datasets are compared as canonical specs (data/open.ts), so relative paths written from
// different working directories still match.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { canonicalDatasetSpec, datasetPart } from '../data/open.js';
import { readCheckpointMeta } from '../io/index.js';
import { packageRoot } from '../util/package-root.js';
import { CLASSIFIER_KIND } from './train-classifier.js';

/** Held-out splits of the datasets ctfgen knows; null: the dataset has none (each emoji set is one vendor's drawings). */
const KNOWN_TEST_SPLITS: Record<string, string | null> = {
  'fashion-mnist:train': 'fashion-mnist:test',
  'emoji-google': null,
  'emoji-twitter': null,
  fixture: null,
};

/** The folder of the classifiers shipped with the package. */
export const SHIPPED_MODELS_DIR = join(packageRoot, 'models');

export interface EvalDefaultsInput {
  /** dataset spec the run (or the samples file) recorded as its training data */
  dataset: string;
  /** names the source in messages, e.g. "run models/fashion-mnist/ctf" */
  source: string;
  /** --classifier, when given */
  classifier?: string;
  /** --reference, when given */
  reference?: string;
  /** where shipped classifiers are looked up (default SHIPPED_MODELS_DIR) */
  modelsDir?: string;
}

export interface EvalDefaults {
  classifier: string;
  reference: string;
  /** one line each: where the classifier and the reference came from */
  because: { classifier: string; reference: string };
}

interface ClassifierFile {
  path: string;
  dataset: string;
  /** the dataset it is (a part of) */
  base: string;
  testDataset: string | null;
}

async function classifierFile(path: string): Promise<ClassifierFile | null> {
  if (!path.endsWith('.safetensors')) return null;
  const meta = await readCheckpointMeta(path).catch(() => null);
  if (!meta || meta.kind !== CLASSIFIER_KIND || typeof meta.dataset !== 'string') return null;
  return {
    path,
    dataset: canonicalDatasetSpec(meta.dataset),
    base: canonicalDatasetSpec(datasetPart(meta.dataset).base),
    testDataset: typeof meta.testDataset === 'string' ? meta.testDataset : null,
  };
}

/** ctfgen feature classifiers among `extra` and dir's *-classifier.safetensors, with the datasets they record. */
async function findClassifiers(dir: string, extra?: string): Promise<ClassifierFile[]> {
  const shipped = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('-classifier.safetensors'))
        .sort()
        .map((f) => join(dir, f))
    : [];
  return (await Promise.all([...(extra ? [extra] : []), ...shipped].map(classifierFile))).filter((c): c is ClassifierFile => c !== null);
}

/**
 * The feature network for evaluating against a reference dataset when only the reference is known
 * (samples from elsewhere): the shipped classifier trained or tested on that dataset; none → refused.
 */
export async function classifierForReference(
  reference: string,
  modelsDir = SHIPPED_MODELS_DIR,
): Promise<{ classifier: string; because: string }> {
  const ref = canonicalDatasetSpec(reference);
  const found = (await findClassifiers(modelsDir)).find(
    (c) => c.dataset === ref || (c.testDataset && canonicalDatasetSpec(c.testDataset) === ref),
  );
  if (!found)
    throw new Error(
      `no shipped feature classifier was trained or tested on ${ref}; pass --classifier <ctfgen classifier or Inception-v3 weights> ` +
        `(train one with \`ctfgen eval classifier train --data <training split> --test ${quoteArg(ref)} --out <file>\`)`,
    );
  return { classifier: found.path, because: `the classifier trained on ${found.dataset}` };
}

/** The reference and feature network for a dataset (see the module comment); throws with the fix when there is none. */
export async function resolveEvalDefaults(o: EvalDefaultsInput): Promise<EvalDefaults> {
  // a part of a dataset (fashion-mnist:train@0:55000, emoji-google@not-every:5) is measured as the
  // dataset it is part of, against the part held out of it when there is one
  const { base, part } = datasetPart(o.dataset);
  const dataset = canonicalDatasetSpec(base);
  const heldOut = part?.kind === 'every' && !part.held ? { spec: `${dataset}@every:${part.n}`, n: part.n } : null;
  const dir = o.modelsDir ?? SHIPPED_MODELS_DIR;
  const candidates = await findClassifiers(dir, o.classifier);
  const own = candidates.find((c) => c.base === dataset) ?? null;

  const known = Object.prototype.hasOwnProperty.call(KNOWN_TEST_SPLITS, dataset);
  const testSplit = heldOut?.spec ?? (known ? KNOWN_TEST_SPLITS[dataset]! : (own?.testDataset ?? null));
  const problems: string[] = [];
  let classifier = o.classifier;
  const given = candidates.find((c) => c.path === o.classifier);
  let classifierWhy =
    given && given.base !== dataset ? `given with --classifier (trained on ${given.dataset}, not ${dataset})` : 'given with --classifier';
  if (!classifier) {
    if (own) {
      classifier = own.path;
      classifierWhy = `the classifier trained on ${own.dataset}`;
    } else {
      const name = datasetSlug(dataset);
      const trainedOn = candidates.map((c) => `${basename(c.path)} (${c.dataset})`).join(', ') || 'none';
      problems.push(
        `no feature classifier was trained on ${dataset} (looked in ${dir}: ${trainedOn}); train one with\n` +
          `  ctfgen eval classifier train --data ${quoteArg(dataset)} --test ${testSplit ? quoteArg(testSplit) : '<held-out images of the same data>'} --out ${name}-classifier.safetensors\n` +
          `and pass --classifier ${name}-classifier.safetensors`,
      );
    }
  }
  let reference = o.reference;
  let referenceWhy = 'given with --reference';
  if (!reference) {
    if (testSplit) {
      reference = testSplit;
      referenceWhy = heldOut
        ? `the part of ${dataset} held out of training (every ${heldOut.n}th sample)`
        : known
          ? `the test split of ${dataset}`
          : `the test split recorded with ${own!.path}`;
    } else
      problems.push(
        known
          ? `${dataset} has no held-out test split; name the real images to compare with, e.g. --reference ${quoteArg(dataset)} (its own training images)`
          : `ctfgen knows no test split of ${dataset}; name the real images to compare with: --reference <dataset spec, .npz or image folder>`,
      );
  }
  if (problems.length > 0)
    throw new Error(
      `${o.source} was trained on ${dataset}, and ctfgen will not measure it against another dataset:\n- ${problems.join('\n- ')}`,
    );
  return { classifier: classifier!, reference: reference!, because: { classifier: classifierWhy, reference: referenceWhy } };
}

const quoteArg = (s: string) => (/^[A-Za-z0-9_:./,=@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** A short file-name stem for a dataset (folder or file name, or the spec). */
function datasetSlug(spec: string): string {
  const m = /^(?:folder|idx):([^,]+)/.exec(spec);
  const stem = m
    ? basename(m[1]!)
        .replace(/\.gz$/, '')
        .replace(/([.-]idx\d?(-ubyte)?|\.ubyte)$/, '')
    : spec.replace(/:.*$/, '');
  return stem.replace(/[^A-Za-z0-9_-]+/g, '-') || 'dataset';
}
