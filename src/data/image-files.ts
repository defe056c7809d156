/**
 * Listing large image folders without loading them: the files of a class tree and their labels,
 * by torchvision's ImageFolder rule (what LlamaGen, ADM and DiT train on), or the files of a flat
 * folder of samples.
 *
 * ImageFolder rule: classes are the sub-folders of the root, sorted; label = position in that
 * list. Each class folder is walked recursively (symbolic links followed), folders in sorted
 * path order and files sorted within each; a file counts when its extension (any case) is an
 * image extension. Sorting is by UTF-16 code unit, which is Python's code-point order for every
 * name outside the astral planes.
 *
 * A class map fixes the labels instead (ImageNet copies that order their class folders
 * differently broke users' runs, LlamaGen #76): a JSON object {"<folder>": index}, or a text file
 * with one class per line in label order whose first word is the folder name (so ImageNet's
 * LOC_synset_mapping.txt, "n01440764 tench, Tinca tinca", works as is). Every class folder must
 * be in the map; map entries without a folder are allowed (a split may lack classes).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

/** Extensions decoded by the streaming (sharp) image path. */
export const STREAM_IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

export interface ImageFileList {
  root: string;
  files: string[];
  /** label of each file; null for a flat folder */
  labels: Int32Array | null;
  /** class names in label order; null for a flat folder */
  classNames: string[] | null;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isImage = (name: string) => STREAM_IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Image files under dir, recursively: folders in sorted path order, files sorted within each. */
function walk(dir: string): string[] {
  const groups: [string, string[]][] = [];
  const visit = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true });
    const files: string[] = [];
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory() || (e.isSymbolicLink() && isDir(p))) visit(p);
      else if (isImage(e.name)) files.push(e.name);
    }
    groups.push([d, files.sort(byCodeUnit)]);
  };
  visit(dir);
  return groups.sort(([a], [b]) => byCodeUnit(a, b)).flatMap(([d, fs]) => fs.map((f) => join(d, f)));
}

/** Class name → label from a class-map file (see the module comment). */
export function readClassMap(path: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`class map ${path}: ${(e as Error).message}`);
  }
  const map = new Map<string, number>();
  if (text.trimStart().startsWith('{')) {
    const obj = JSON.parse(text) as Record<string, unknown>;
    for (const [name, v] of Object.entries(obj)) {
      if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`class map ${path}: "${name}" maps to ${String(v)}, not a label ≥ 0`);
      map.set(name, v as number);
    }
  } else {
    text
      .split(/\r?\n/)
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((name) => name !== '')
      .forEach((name, i) => {
        if (map.has(name)) throw new Error(`class map ${path}: class "${name}" is listed twice`);
        map.set(name, i);
      });
  }
  if (map.size === 0) throw new Error(`class map ${path} lists no classes`);
  const labels = [...map.values()].sort((a, b) => a - b);
  if (labels.some((l, i) => l !== i)) throw new Error(`class map ${path}: labels must be 0..${map.size - 1}, each once`);
  return map;
}

/**
 * The images of a folder: a class tree (ImageFolder rule, or `classMap`) when the root holds
 * sub-folders, else the images directly inside it, sorted, unlabelled.
 */
export function listImageFiles(root: string, opts: { classMap?: string } = {}): ImageFileList {
  const rootAbs = resolve(root);
  if (!isDir(rootAbs)) throw new Error(`image folder ${rootAbs} does not exist or is not a folder`);
  const entries = readdirSync(rootAbs, { withFileTypes: true });
  const classDirs = entries
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && isDir(join(rootAbs, e.name))))
    .map((e) => e.name)
    .sort(byCodeUnit);
  if (classDirs.length === 0) {
    if (opts.classMap) throw new Error(`--class-map given but ${rootAbs} has no class sub-folders`);
    const files = entries
      .filter((e) => !e.isDirectory() && isImage(e.name))
      .map((e) => e.name)
      .sort(byCodeUnit)
      .map((f) => join(rootAbs, f));
    if (files.length === 0) throw new Error(`${rootAbs} holds no images (${STREAM_IMAGE_EXTENSIONS.join(', ')})`);
    return { root: rootAbs, files, labels: null, classNames: null };
  }
  const map = opts.classMap ? readClassMap(opts.classMap) : new Map(classDirs.map((c, i) => [c, i]));
  const missing = classDirs.filter((c) => !map.has(c));
  if (missing.length > 0)
    throw new Error(
      `class map ${opts.classMap}: ${missing.length} class folder(s) of ${rootAbs} are not in it (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`,
    );
  const classNames = new Array<string>(map.size);
  for (const [name, label] of map) classNames[label] = name;
  const files: string[] = [];
  const labels: number[] = [];
  for (const c of classDirs) {
    const inClass = walk(join(rootAbs, c));
    if (inClass.length === 0) throw new Error(`class folder ${join(rootAbs, c)} holds no images (${STREAM_IMAGE_EXTENSIONS.join(', ')})`);
    for (const f of inClass) {
      files.push(f);
      labels.push(map.get(c)!);
    }
  }
  return { root: rootAbs, files, labels: Int32Array.from(labels), classNames };
}
