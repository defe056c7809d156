/**
 * Opening files a user named: regular files only. The file is opened first (non-blocking, so a
 * FIFO with no writer does not hang the open) and then checked with fstat on the opened
 * descriptor, so a symlink to /dev/zero, a FIFO, a socket or a directory is refused whatever its
 * name says, and the size used for limits is the size of the very file being read. Reads take a
 * byte limit: callers derive it from what the file's own header declares, or from a documented
 * limit, and a file above it is refused before anything is allocated.
 */
import * as fs from 'node:fs';
import { open as fsOpen, type FileHandle } from 'node:fs/promises';

/** A file refused for its kind or size (not a regular file, larger than allowed). */
export class FileRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileRefusedError';
  }
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; it changes
// nothing for regular files. O_NOCTTY: a terminal device never becomes the controlling one.
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOCTTY ?? 0);

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checkRegular(st: fs.Stats, path: string, what: string): void {
  if (!st.isFile()) throw new FileRefusedError(`${path} is ${kindOf(st)}, not a regular file; ${what} must be a regular file`);
}

/** The error of a failed open, naming the file; it keeps the system error's `code`. */
function openError(e: unknown, path: string, what: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EISDIR') return new FileRefusedError(`${path} is a directory, not a regular file; ${what} must be a regular file`);
  const out: NodeJS.ErrnoException = new Error(
    err.code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot open ${what} ${path}: ${err.message}`,
  );
  out.code = err.code;
  return out;
}

/** Refuses `size` above `maxBytes`, naming the file, what it is and how to raise the limit. */
export function checkFileSize(size: number, maxBytes: number | undefined, path: string, what: string, raise?: string): void {
  if (maxBytes !== undefined && size > maxBytes)
    throw new FileRefusedError(`${path} is ${size} bytes, more than the ${maxBytes}-byte limit for ${what}${raise ? `; ${raise}` : ''}`);
}

export interface RegularFileHandle {
  handle: FileHandle;
  /** size of the opened file (fstat) */
  size: number;
}

/** Opens `path` for reading if it is a regular file; `what` names it in errors ("tokenizer checkpoint"). */
export async function openRegularFile(path: string, what = 'the file'): Promise<RegularFileHandle> {
  let handle: FileHandle;
  try {
    handle = await fsOpen(path, READ_FLAGS);
  } catch (e) {
    throw openError(e, path, what);
  }
  try {
    const st = await handle.stat();
    checkRegular(st, path, what);
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** openRegularFile, synchronously: a file descriptor the caller closes. */
export function openRegularFileSync(path: string, what = 'the file'): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(path, READ_FLAGS);
  } catch (e) {
    throw openError(e, path, what);
  }
  try {
    const st = fs.fstatSync(fd);
    checkRegular(st, path, what);
    return { fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

export interface ReadLimit {
  /** what the file is, for errors */
  what?: string;
  /** refuse files larger than this */
  maxBytes?: number;
  /** how to raise maxBytes (appended to the error) */
  raise?: string;
}

/** Reads exactly `length` bytes at `position` (fewer only if the file shrank: then an error). */
export async function readExactly(fh: FileHandle, length: number, position: number, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, Math.min(1 << 30, length - done), position + done);
    if (bytesRead === 0) throw new Error(`${path} shrank while being read`);
    done += bytesRead;
  }
  return out;
}

export function readExactlySync(fd: number, length: number, position: number, path: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, Math.min(1 << 30, length - done), position + done);
    if (n === 0) throw new Error(`${path} shrank while being read`);
    done += n;
  }
  return out;
}

/** The whole of a regular file, refused above `maxBytes`. */
export async function readRegularFile(path: string, limit: ReadLimit = {}): Promise<Uint8Array> {
  const what = limit.what ?? 'the file';
  const { handle, size } = await openRegularFile(path, what);
  try {
    checkFileSize(size, limit.maxBytes, path, what, limit.raise);
    return await readExactly(handle, size, 0, path);
  } finally {
    await handle.close();
  }
}

export function readRegularFileSync(path: string, limit: ReadLimit = {}): Uint8Array {
  const what = limit.what ?? 'the file';
  const { fd, size } = openRegularFileSync(path, what);
  try {
    checkFileSize(size, limit.maxBytes, path, what, limit.raise);
    return readExactlySync(fd, size, 0, path);
  } finally {
    fs.closeSync(fd);
  }
}

/** A small text file (JSON, JSONL), refused above `maxBytes`. */
export function readTextFileSync(path: string, limit: ReadLimit & { maxBytes: number }): string {
  return Buffer.from(readRegularFileSync(path, limit)).toString('utf8');
}
