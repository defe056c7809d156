/**
 * The committed tiny fixture: test/fixtures/tiny-fashion/<class>/*.png, 30 grey
 * 28x28 images per class x 10 classes taken from the Fashion-MNIST test split
 * (regenerate with `node scripts/make-tiny-fashion.mjs`). Paths are resolved
 * from the package root, not the working directory.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { U8ImageDataset } from './dataset.js';
import { imageFolder, type ImageFolderOptions } from './image-folder.js';

let cachedRoot: string | undefined;

/** The ctfgen package root (the nearest folder above this module with ctfgen's package.json). */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'ctfgen') return (cachedRoot = dir);
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ctfgen package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Folder of the tiny Fashion-MNIST fixture. */
export function fixtureDir(): string {
  return join(packageRoot(), 'test', 'fixtures', 'tiny-fashion');
}

/**
 * The fixture as a dataset (1x28x28, 10 classes, 300 images). Class names are the
 * folder names in code-unit order, which differs from Fashion-MNIST's label order:
 * Ankle boot, Bag, Coat, Dress, Pullover, Sandal, Shirt, Sneaker, T-shirt-top, Trouser.
 */
export function fixtureDataset(opts: ImageFolderOptions = {}): U8ImageDataset {
  const dir = fixtureDir();
  if (!existsSync(dir)) {
    throw new Error(`fixture folder ${dir} is missing; regenerate it with \`node scripts/make-tiny-fashion.mjs\``);
  }
  return imageFolder(dir, { name: 'fixture', ...opts });
}
