// The files a folder of study measurements was made from, with their content hashes, kept beside
// the measurements (sources.json). Measurements are read back by name, so a model retrained or
// replaced in place would otherwise be reported with its predecessor's numbers: before measuring,
// a study checks that every file it recorded still holds what it held, and stops naming the files
// that changed. New files (a run added to the study) are recorded as they come.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/index.js';
import { RunDir } from '../run/run-dir.js';

const hashed = new Map<string, { stamp: string; sha256: string }>();

/**
 * SHA-256 of a file's content (about 1 GB/s), hashed once per process while the file's inode, size,
 * mtime and ctime stay: a study checks several measurement folders over the same runs.
 */
function sha256(path: string): string {
  const st = statSync(path, { bigint: true });
  const stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const known = hashed.get(path);
  if (known?.stamp === stamp) return known.sha256;
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashed.set(path, { stamp, sha256 });
  return sha256;
}

/** A source's files: a run folder's weights (snapshots included) and the tokenizer and clusters its run.json names; any other path as it is. */
function filesOf(source: string): string[] {
  const st = statSync(source, { throwIfNoEntry: false });
  if (!st)
    throw new Error(`${source} does not exist: train or restore it before measuring (a study's runner trains every run its config names)`);
  if (!st.isDirectory()) return [source];
  const run = new RunDir(source);
  const info = run.readInfo();
  const weights = readdirSync(source)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => join(source, f));
  return [...weights, info.tokenizer, ...(info.clusters ? [info.clusters] : [])];
}

/**
 * Checks the files behind `sources` (run folders, checkpoint files) against those recorded in
 * `<out>/sources.json` and records the new ones. Throws, naming each changed file, when a recorded
 * file's content differs: the measurements in `out` describe the old one.
 */
export async function checkSources(out: string, sources: string[]): Promise<void> {
  mkdirSync(out, { recursive: true });
  const file = join(out, 'sources.json');
  const recorded = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const now: Record<string, string> = {};
  for (const path of [...new Set(sources.flatMap(filesOf))].sort()) now[path] = sha256(path);
  const changed = Object.keys(now).filter((p) => recorded[p] !== undefined && recorded[p] !== now[p]);
  if (changed.length > 0)
    throw new Error(
      `${out} holds measurements of other versions of ${changed.join(', ')} (their content changed since; ${file} records the old hashes). ` +
        `Move ${out} aside (or delete it) to measure the new files, or restore the old ones to read the measurements back`,
    );
  if (Object.keys(now).some((p) => recorded[p] === undefined)) await writeJsonAtomic(file, { ...recorded, ...now }, { indent: 2 });
}
