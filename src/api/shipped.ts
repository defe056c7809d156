// The models that ship inside the package (trained on Fashion-MNIST by the study, docs/results.md),
// found from the package's own folder whatever the working directory.
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

/** Run folder of a shipped system: 'ctf' (default) or 'baseline'. */
export function shippedRun(system: 'ctf' | 'baseline' = 'ctf'): string {
  if (system !== 'ctf' && system !== 'baseline') throw new Error(`shipped systems are ctf and baseline, got '${system}'`);
  return join(packageRoot, 'models', 'fashion-mnist', system);
}
