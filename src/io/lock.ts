/**
 * Exclusive lock files: `<path>` created with O_EXCL holds the holder's PID, host, start time and
 * a random token. A second process (or a second holder in the same process) fails at once with a
 * message naming the holder. A lock whose holder is gone (same host, PID not running, or running
 * but started after the lock: a recycled PID) is stale and is taken over. Hand-written: the
 * maintained npm lock packages (proper-lockfile) use mtime heartbeats and a timer per lock, which
 * a long synchronous training step would starve; a PID check needs no timer.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken */
  startedAt: string;
  /** what holds it ("train stage1", …) */
  purpose: string;
  /** the holder's process start (Linux /proc start tick), to tell a recycled PID */
  processStart?: string;
  token: string;
}

export class LockError extends Error {
  constructor(
    message: string,
    readonly holder?: LockHolder,
  ) {
    super(message);
    this.name = 'LockError';
  }
}

/** Start time of a process on this machine (clock ticks since boot, /proc/<pid>/stat field 22); undefined off Linux. */
function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: fields after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether a process with this PID runs on this machine (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const ownStart = processStart(process.pid);

/** Whether the recorded holder still runs (always assumed for another host, where it cannot be checked). */
function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  if (!processAlive(h.pid)) return false;
  if (h.processStart === undefined) return true;
  const now = processStart(h.pid);
  return now === undefined || now === h.processStart;
}

function readHolder(path: string): LockHolder | null {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string') return h;
  } catch {
    // a torn lock file: its writer died between create and write
  }
  return { pid: 0, host: hostname(), startedAt: '?', purpose: '?', token: `torn:${text}` };
}

export interface FileLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still this lock's (idempotent). */
  release(): void;
}

/**
 * Takes the lock at `path` or throws a LockError naming the holder. `purpose` is recorded and
 * shown to whoever finds the lock taken.
 */
export function acquireLock(path: string, purpose: string): FileLock {
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    purpose,
    processStart: ownStart,
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(path, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LockError(`cannot create lock ${path}: ${(e as Error).message}`);
    }
    if (fd !== undefined) {
      try {
        fs.writeSync(fd, JSON.stringify(me) + '\n');
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return lockOf(path, me);
    }
    const holder = readHolder(path);
    if (holder === null) continue; // released meanwhile
    const torn = holder.token.startsWith('torn:');
    if (torn && !tornLongAgo(path)) throw new LockError(`${path} is being taken by another process just now; try again`);
    if (!torn && holderAlive(holder))
      throw new LockError(
        `${path} is held by PID ${holder.pid} on ${holder.host} (${holder.purpose}, since ${holder.startedAt}); ` +
          `wait for it to finish, or stop it. If that process is gone (e.g. on another machine), delete ${path}`,
        holder,
      );
    takeOver(path, holder);
  }
  throw new LockError(`${path}: could not take the lock (it changed hands repeatedly); try again`);
}

/** A lock file without a holder record is being written (just created) or was left by a writer that died. */
function tornLongAgo(path: string): boolean {
  try {
    return Date.now() - fs.statSync(path).mtimeMs > TORN_GRACE_MS;
  } catch {
    return true;
  }
}
const TORN_GRACE_MS = 2000;

/**
 * Removes a stale lock, unless it changed hands since it was read: it is renamed aside first (an
 * atomic step only one contender wins), and put back if what was moved is not the stale lock.
 */
function takeOver(path: string, stale: LockHolder): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = readHolder(aside);
  if (moved && moved.token !== stale.token) {
    try {
      fs.linkSync(aside, path); // fails if someone locked meanwhile: they hold it then
    } catch {
      // keep theirs
    }
  }
  fs.rmSync(aside, { force: true });
}

function lockOf(path: string, me: LockHolder): FileLock {
  let held = true;
  return {
    path,
    holder: me,
    release() {
      if (!held) return;
      held = false;
      if (readHolder(path)?.token === me.token) fs.rmSync(path, { force: true });
    },
  };
}
