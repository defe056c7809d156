// Sampling shared out over the ranks of a process group: the ranks take whole batches of the
// request (rankRange in units of the batch size), numbered by their index in the whole request, so
// every image is drawn in the very batch, from the very seed (seeds.ts), that one process would use:
// the output is bit for bit the same for any number of ranks. Every rank then holds the whole set.
import { allGatherRows, allReduceNumbers } from '../dist/collectives.js';
import type { ProcessGroup } from '../dist/group.js';
import { rankRange } from '../dist/shard.js';
import type { LoadedRun } from '../run/load-run.js';
import * as T from '../torch/index.js';
import { DEFAULT_BATCH_SIZE, sampleImages, type SampleRequest, type SampledImages } from './images.js';

export interface SpreadOptions {
  /** ranks sharing the work (null: this process draws everything) */
  group?: ProcessGroup | null;
  precision?: T.Precision;
}

export function sampleImagesSpread(run: LoadedRun, r: SampleRequest, o: SpreadOptions = {}): SampledImages {
  const group = o.group ?? null;
  if (!group) return T.withPrecision(o.precision, () => sampleImages(run, r));
  const n = r.classes.length;
  const unit = r.batchSize ?? DEFAULT_BATCH_SIZE;
  const mine = rankRange(n, group.rank, group.size, unit);
  const local = T.withPrecision(o.precision, () =>
    sampleImages(run, {
      ...r,
      classes: Array.from(r.classes).slice(mine.from, mine.from + mine.count),
      firstIndex: (r.firstIndex ?? 0) + mine.from,
    }),
  );
  return gatherSampled(group, local, n, unit);
}

/**
 * Every rank's share (rankRange in units of `unit`) of an n-image set → the whole set on every rank;
 * the times are the slowest rank's.
 */
export function gatherSampled(group: ProcessGroup, local: SampledImages, n: number, unit: number): SampledImages {
  const mine = rankRange(n, group.rank, group.size, unit);
  // a rank with no images knows no image shape: take the others'
  const per = (a: { length: number }) => (mine.count > 0 ? a.length / mine.count : 0);
  const [c, h, w, L, coarseL] = allReduceNumbers(
    group,
    [...local.shape.slice(1), per(local.tokens), local.coarse ? per(local.coarse) : 0],
    'max',
  );
  const s = allReduceNumbers(group, [local.seconds.stage1, local.seconds.stage2, local.seconds.decode], 'max');
  return {
    images: allGatherRows(group, local.images, n, c! * h! * w!, unit),
    shape: [n, c!, h!, w!],
    tokens: allGatherRows(group, local.tokens, n, L!, unit),
    coarse: coarseL! > 0 ? allGatherRows(group, local.coarse ?? new Int32Array(0), n, coarseL!, unit) : undefined,
    seconds: { stage1: s[0]!, stage2: s[1]!, decode: s[2]! },
  };
}
