// The package's root folder, found from this file's location whether run from src (tsx) or dist.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`ctfgen: cannot find the package root above ${start}`);
    dir = up;
  }
}

export const packageRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A file or folder shipped with the package (e.g. `models/fashion-mnist/ctf`), wherever the command runs from. */
export const shippedPath = (relative: string): string => join(packageRoot, relative);
