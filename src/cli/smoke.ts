// A quick end-to-end check of the engine: trains a tiny GPT for a few steps on a learnable token
// task and reports the loss falling.
import * as T from '../torch/index.js';
import { AdamW, decayGroups } from '../nn/index.js';
import { GPT } from '../models/gpt.js';
import { progress } from './progress.js';

export function runSmoke(steps: number, log: (line: string) => void = console.log): { first: number; last: number } {
  T.manualSeed(0);
  const model = new GPT({ dim: 64, nLayer: 2, nHead: 4, vocabSize: 16, numClasses: 4, blockSize: 64 });
  const opt = new AdamW(decayGroups(model.namedParameters(), 0.05), { lr: 3e-3, betas: [0.9, 0.95] });
  const bar = progress('smoke', steps);
  let first = NaN;
  let last = NaN;
  try {
    for (let i = 0; i < steps; i++) {
      last = T.tidy(() => {
        // class c → tokens (c·position) mod 16
        const classes = T.randint(0, 4, [16]);
        const seq = T.arange(64).unsqueeze(0).mul(classes.unsqueeze(1).add(1)).remainder(16);
        T.zeroGrad(model.parameters());
        const logits = model.forward(classes, seq.slice(1, 0, 63));
        const loss = T.crossEntropy(logits.reshape(-1, 16), seq.reshape(-1));
        loss.backward();
        T.clipGradNorm(model.parameters(), 1);
        opt.step();
        return loss.item();
      });
      if (i === 0) first = last;
      bar.update(i + 1, { loss: last });
    }
  } finally {
    bar.stop();
    model.dispose();
    opt.dispose();
  }
  log(`smoke: loss ${first.toFixed(4)} → ${last.toFixed(4)} over ${steps} steps (${T.getNumThreads()} threads)`);
  return { first, last };
}
