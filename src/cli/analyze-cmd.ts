// `ctfgen analyze redundancy` and `ctfgen analyze clusters`.
import { analyzeRedundancy, clusterPicture, type RedundancyAnalysisOptions } from '../cluster/analyze.js';
import { SWAPS } from '../cluster/redundancy.js';

export async function redundancyCommand(o: RedundancyAnalysisOptions): Promise<void> {
  const { images, results } = await analyzeRedundancy(o);
  console.log(`redundancy on ${images} images of ${o.data}: PSNR (dB) of the swapped decode against the original decode`);
  console.log(`K       ${SWAPS.map((s) => s.padStart(14)).join('')}`);
  for (const r of results) console.log(`${String(r.k).padEnd(8)}${r.errors.map((e) => e.psnr.toFixed(2).padStart(14)).join('')}`);
  console.log(`grids and redundancy.json in ${o.outDir}`);
}

export async function clusterPictureCommand(o: Parameters<typeof clusterPicture>[0]): Promise<void> {
  const r = await clusterPicture(o);
  console.log(`${o.out}: ${r.clusters} clusters × ${r.members} members`);
}
