// Shared by the hardening tests: the CLI and single readers in child processes with their peak
// memory measured, and scratch folders.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';
import type { ReaderName } from './read-file.js';
import { MAX_RSS_TAG } from './rss-probe.js';

export const cli = join(packageRoot, 'dist', 'src', 'cli', 'main.js');
const here = join(packageRoot, 'dist', 'test', 'harden');
const probe = join(here, 'rss-probe.js');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stderr without the probe's line */
  stderr: string;
  /** peak resident memory of the child, MiB */
  maxRssMiB: number;
  seconds: number;
}

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

function result(status: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, t0: number): ChildResult {
  const i = stderr.lastIndexOf(MAX_RSS_TAG);
  const kib = i >= 0 ? Number(stderr.slice(i + MAX_RSS_TAG.length).trim()) : NaN;
  return { status, signal, stdout, stderr: i >= 0 ? stderr.slice(0, i) : stderr, maxRssMiB: kib / 1024, seconds: (Date.now() - t0) / 1000 };
}

/** Runs a node script in a child process and measures its peak memory. */
export function runNode(script: string, args: string[], o: ChildOptions = {}): ChildResult {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', probe, script, ...args], {
    encoding: 'utf8',
    cwd: o.cwd,
    env: o.env ?? process.env,
    timeout: o.timeoutMs ?? 120_000,
    maxBuffer: 64 << 20,
  });
  return result(r.status, r.signal, r.stdout, r.stderr, t0);
}

/** `ctfgen <args>` in a child process. */
export const ctfgen = (args: string[], o: ChildOptions = {}): ChildResult => runNode(cli, args, o);

/** `ctfgen <args>` started in the background: its process, and its result once it exits. */
export function startCtfgen(
  args: string[],
  o: ChildOptions = {},
): { pid: number; done: Promise<ChildResult>; kill(s: NodeJS.Signals): void } {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', probe, cli, ...args], { cwd: o.cwd, env: o.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ChildResult>((resolve) => child.on('close', (code, sig) => resolve(result(code, sig, stdout, stderr, t0))));
  return { pid: child.pid!, done, kill: (s) => child.kill(s) };
}

/** One of ctfgen's readers on one file, in a child process: the outcome ("ok" or the error) and the peak memory. */
export function readInChild(reader: ReaderName, path: string): ChildResult & { outcome: string } {
  const r = runNode(join(here, 'read-file.js'), [reader, path]);
  return { ...r, outcome: r.stdout.trim() };
}

export function scratch(prefix: string): string {
  return mkdtempSync(join(realpathSync(tmpdir()), `ctfgen-${prefix}-`));
}

/** The shipped Fashion-MNIST models (tokenizer beside the runs), copied into a scratch folder. */
export function shippedCopy(prefix: string): { dir: string; ctf: string; baseline: string; tokenizer: string } {
  const dir = scratch(prefix);
  cpSync(join(packageRoot, 'models', 'fashion-mnist'), dir, { recursive: true });
  return { dir, ctf: join(dir, 'ctf'), baseline: join(dir, 'baseline'), tokenizer: join(dir, 'tokenizer.safetensors') };
}
