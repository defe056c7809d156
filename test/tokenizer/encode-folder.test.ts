// Large-folder encoding as LlamaGen's extract_codes does it: files and labels exactly as
// torchvision's ImageFolder lists them (nested folders, mixed-case extensions, other files
// ignored) or as a --class-map fixes them; `tokenizer encode --ten-crop / --center-crop` writes a
// sharded cache whose codes are the tokenizer's codes of each crop (the crops themselves are
// checked against Pillow/torchvision in test/data/center-crop.test.ts); --resume; training reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRgb } from '../../src/data/decode-rgb.js';
import { listImageFiles } from '../../src/data/image-files.js';
import { loadTokenCache } from '../../src/data/token-cache.js';
import { saveCheckpoint } from '../../src/io/index.js';
import * as T from '../../src/torch/index.js';
import { folderCrops } from '../../src/tokenizer/encode-folder.js';
import { openTokenizer } from '../../src/tokenizer/tokenizer-file.js';
import { VQModel } from '../../src/tokenizer/vq-model.js';
import { packageRoot } from '../../src/util/package-root.js';
import { tmpDir } from '../io/helpers.js';

const PYTHON = process.env.CTFGEN_PYTHON ?? '/usr/bin/python3';
const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

const MAKE_TREE = `
import sys, os, json, numpy as np
from PIL import Image
from torchvision.datasets import ImageFolder
root = sys.argv[1]
rng = np.random.default_rng(1)
files = ['b_cls/x2.JPG', 'b_cls/x1.png', 'b_cls/deeper/a0.jpeg', 'a_cls/z.png', 'a_cls/notes.txt', 'C_cls/only.jpg', 'C_cls/sub/more.PNG']
for i, f in enumerate(files):
    os.makedirs(os.path.dirname(os.path.join(root, f)), exist_ok=True)
    if f.endswith('.txt'):
        open(os.path.join(root, f), 'w').write('not an image')
        continue
    w, h = [(70, 52), (40, 40), (90, 37), (52, 70), (0, 0), (36, 41), (64, 64)][i]
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(os.path.join(root, f), quality=95)
ds = ImageFolder(root)
print(json.dumps({'classes': ds.classes, 'samples': [[p, int(l)] for p, l in ds.samples]}))
`;

test('image folders are listed as torchvision ImageFolder lists them; a class map fixes the labels', () => {
  const root = join(tmpDir('tree'), 'root');
  const tv = JSON.parse(execFileSync(PYTHON, ['-c', MAKE_TREE, root], { encoding: 'utf8' })) as {
    classes: string[];
    samples: [string, number][];
  };
  const list = listImageFiles(root);
  assert.deepEqual(list.classNames, tv.classes);
  assert.deepEqual(
    list.files.map((f, i) => [f, list.labels![i]]),
    tv.samples,
  );
  const map = join(root, '..', 'classes.txt');
  writeFileSync(map, 'b_cls first class\na_cls\nC_cls third\nunused_cls\n');
  const mapped = listImageFiles(root, { classMap: map });
  assert.deepEqual(mapped.classNames, ['b_cls', 'a_cls', 'C_cls', 'unused_cls']);
  assert.deepEqual(
    mapped.files.map((f, i) => [f, mapped.labels![i]]),
    tv.samples.map(([f, l]) => [f, { 0: 2, 1: 1, 2: 0 }[l]]),
  );
  writeFileSync(map, JSON.stringify({ a_cls: 0, b_cls: 1 }));
  assert.throws(() => listImageFiles(root, { classMap: map }), /1 class folder\(s\) of .* are not in it \(C_cls\)/);
  writeFileSync(map, JSON.stringify({ a_cls: 0, b_cls: 2, C_cls: 3 }));
  assert.throws(() => listImageFiles(root, { classMap: map }), /labels must be 0\.\.2, each once/);
});

test('tokenizer encode --ten-crop / --center-crop: sharded caches of every crop, ImageFolder labels, --resume; training reads them', async () => {
  const d = tmpDir('encode');
  const root = join(d, 'root');
  execFileSync(PYTHON, ['-c', MAKE_TREE, root]);
  // a small random RGB tokenizer of 16x16 images (factor 2: 8x8 codes)
  T.manualSeed(0);
  const config = { codebookSize: 64, codebookDim: 4, ch: 32, chMult: [1, 2], zChannels: 8, numResBlocks: 1, inChannels: 3 };
  const vq = new VQModel(config);
  const tokPath = join(d, 'tok.safetensors');
  await saveCheckpoint(tokPath, T.tensorsToRaw(vq.stateDict()), {
    kind: 'vq-tokenizer',
    config,
    transform: { resize: { height: 16, width: 16 }, channels: 3 },
  });
  vq.dispose();
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: d });
  const encode = (out: string, crop: string, ...more: string[]) =>
    run('tokenizer', 'encode', '--tokenizer', tokPath, '--data', `folder:${root}`, crop, '--shard-size', '4', '--out', out, ...more);

  const r = encode('ten', '--ten-crop');
  assert.equal(r.status, 0, r.stderr);
  const tok = await openTokenizer(tokPath);
  try {
    const list = listImageFiles(root);
    for (const [out, crop, variants] of [
      ['ten', 'ten', 10],
      ['center', 'center', 2],
    ] as const) {
      if (out === 'center') assert.equal(encode('center', '--center-crop').status, 0);
      const cache = await loadTokenCache(join(d, out));
      assert.deepEqual([cache.n, cache.variants, cache.gridH, cache.numClasses], [6, variants, 8, 3]);
      assert.deepEqual(Array.from(cache.labels), Array.from(list.labels!));
      assert.equal(cache.dataset, `folder:${root}`);
      for (let i = 0; i < list.files.length; i++) {
        const crops = folderCrops(await decodeRgb(list.files[i]!), 16, crop);
        const x = Float32Array.from({ length: crops.length * 3 * 256 }, (_, j) => {
          const [v, ch, p] = [Math.floor(j / 768), Math.floor(j / 256) % 3, j % 256];
          return crops[v]!.data[p * 3 + ch]! / 127.5 - 1;
        });
        const own = T.tidy(() => tok.model.encode(T.fromArray(x, [crops.length, 3, 16, 16])).toInt32Array());
        assert.deepEqual(Array.from(cache.codes.subarray(i * variants * 64, (i + 1) * variants * 64)), Array.from(own), `image ${i}`);
      }
    }
  } finally {
    tok.model.dispose();
  }
  assert.match(encode('ten', '--ten-crop').stderr, /already holds shard-000000000\.safetensors; pass --resume/);
  assert.equal(encode('ten', '--ten-crop', '--resume').status, 0);
  // stage training draws among the ten crops of the sharded cache
  const t = run(
    'train',
    'baseline',
    '--run',
    'run',
    '--tokenizer',
    tokPath,
    '--train-cache',
    'ten',
    '--preset',
    'tiny',
    '--steps',
    '2',
    '--batch-size',
    '4',
  );
  assert.equal(t.status, 0, t.stderr);
});
