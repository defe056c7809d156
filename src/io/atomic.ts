/**
 * Atomic file writes: the data goes to a temporary file in the destination's folder, which
 * is flushed to disk (fsync) and then renamed over the destination; the folder is fsynced so
 * the rename itself is durable. A reader (or a crash, or SIGKILL) sees either the old file or
 * the complete new one, never a partial write. A killed writer can leave its temporary file
 * (`.<name>.<pid>.<host>.<random>.tmp`, host: a hash of the machine's name) behind; it is never
 * mistaken for the destination, and this
 * process's first write into that folder removes it (temporary files of writers that no longer run).
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as fs from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { processAlive } from './lock.js';

/** Data for an atomic write: a string (UTF-8), bytes, or a sequence of byte chunks written in order. */
export type AtomicData = string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface AtomicWriteOptions {
  /** file mode of a newly created file (default 0o666, minus the umask) */
  mode?: number;
}

/** Largest single write call (Node/libuv limit writes to about 2 GiB). */
const WRITE_CHUNK = 1 << 30;

/** This machine in temporary file names: a PID can only be checked on the machine that wrote it (shared file systems). */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);

function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${HOST_TAG}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Folders this process has already cleared of leftover temporary files. */
const clearedDirs = new Set<string>();
const TEMP_NAME = /^\..+\.(\d+)\.([0-9a-f]{6})\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temporary files left in `target`'s folder by writers that were killed (their PID no
 * longer runs); those of live writers are left alone. Once per folder and process: leftovers come
 * from processes that died before this one wrote there.
 */
function removeLeftoverTemps(target: string): void {
  const dir = path.resolve(path.dirname(target));
  if (clearedDirs.has(dir)) return;
  clearedDirs.add(dir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || m[2] !== HOST_TAG || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
    } catch {
      // removed by someone else meanwhile
    }
  }
}

function isIgnorableDirSyncError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  // Some platforms / file systems cannot open or fsync a directory.
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'EBADF' || code === 'ENOTSUP' || code === 'EACCES';
}

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!isIgnorableDirSyncError(e)) throw e;
  } finally {
    await fh?.close();
  }
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    if (!isIgnorableDirSyncError(e)) throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function toChunk(c: Uint8Array): Uint8Array {
  if (!(c instanceof Uint8Array)) throw new TypeError('writeFileAtomic: chunks must be Uint8Arrays');
  return c;
}

/** Writes `data` to `target` atomically (see the module comment). */
export async function writeFileAtomic(target: string, data: AtomicData, opts: AtomicWriteOptions = {}): Promise<void> {
  removeLeftoverTemps(target);
  const tmp = tempPathFor(target);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o666);
  let ok = false;
  try {
    const writeAll = async (c: Uint8Array): Promise<void> => {
      let off = 0;
      while (off < c.byteLength) {
        const { bytesWritten } = await fh.write(c, off, Math.min(WRITE_CHUNK, c.byteLength - off));
        off += bytesWritten;
      }
    };
    if (typeof data === 'string') await writeAll(Buffer.from(data, 'utf8'));
    else if (data instanceof Uint8Array) await writeAll(data);
    else if (Symbol.asyncIterator in data) for await (const c of data) await writeAll(toChunk(c));
    else for (const c of data) await writeAll(toChunk(c));
    await fh.sync();
    await fh.close();
    ok = true;
    await rename(tmp, target);
    await fsyncDir(path.dirname(target));
  } catch (e) {
    if (!ok) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Synchronous writeFileAtomic (for small files and exit paths); no async iterables. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array | Iterable<Uint8Array>, opts: AtomicWriteOptions = {}): void {
  removeLeftoverTemps(target);
  const tmp = tempPathFor(target);
  const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o666);
  let closed = false;
  try {
    const writeAll = (c: Uint8Array): void => {
      let off = 0;
      while (off < c.byteLength) off += fs.writeSync(fd, c, off, Math.min(WRITE_CHUNK, c.byteLength - off));
    };
    if (typeof data === 'string') writeAll(Buffer.from(data, 'utf8'));
    else if (data instanceof Uint8Array) writeAll(data);
    else for (const c of data) writeAll(toChunk(c));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    closed = true;
    fs.renameSync(tmp, target);
    fsyncDirSync(path.dirname(target));
  } catch (e) {
    if (!closed) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // ignore
    }
    throw e;
  }
}

/** JSON.stringify(value, null, indent) plus a newline, written atomically. */
export async function writeJsonAtomic(target: string, value: unknown, opts: AtomicWriteOptions & { indent?: number } = {}): Promise<void> {
  await writeFileAtomic(target, jsonText(value, opts.indent), opts);
}

export function writeJsonAtomicSync(target: string, value: unknown, opts: AtomicWriteOptions & { indent?: number } = {}): void {
  writeFileAtomicSync(target, jsonText(value, opts.indent), opts);
}

function jsonText(value: unknown, indent = 2): string {
  const s = JSON.stringify(value, null, indent) as string | undefined;
  if (s === undefined) throw new TypeError('writeJsonAtomic: value is not JSON-serialisable');
  return s + '\n';
}
