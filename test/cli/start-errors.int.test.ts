/**
 * Clean errors at start (issue 15 item 8, issue 16 item 6), from the real processes: `npm start`'s
 * entry (adapters/main.ts) and the `referent` CLI. A bad setting, a refused HOST, a busy PORT, and a
 * data folder that is a file, sits under a file, is not writable or is on a full disk each give one
 * line on stderr, no stack trace, and the documented exit status (2 configuration, 1 data folder).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent } from '../../src/open.js';
import { makeColourGallery, repoRoot, tempDir, testConfig, tinyModelDir } from '../support/fixtures.js';
import { runCli, type CliResult } from '../support/run-cli.js';

const MAIN = path.join(repoRoot, 'adapters', 'main.ts');
const PRELOAD_FULL_DISK = path.join(import.meta.dirname, 'full-disk.preload.mjs');

/**
 * `npm start`'s entry in a child, as server-process.ts starts it, but collecting the exit: these
 * starts must fail. `wrap` runs it under another program (setpriv, unshare); a server that starts
 * after all is stopped, and its output still judged.
 */
function runStart(env: Record<string, string>, options: { wrap?: string[]; nodeArgs?: string[] } = {}): Promise<CliResult> {
  const node = [process.execPath, ...(options.nodeArgs ?? []), '--import', 'tsx', MAIN];
  const [file, ...args] = [...(options.wrap ?? []), ...node];
  const child = spawn(file!, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', REFERENT_OFFLINE: '1', REFERENT_OCR: '0', PORT: '0', REFERENT_MODEL: tinyModelDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('Referent is running')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** One line on stderr, matching `line`, and nothing of a crash (a start that got as far as loading the model has said which). */
function expectOneClearLine(result: CliResult, line: RegExp): void {
  const lines = result.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Using the demo encoder'));
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/unexpected error/);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
}

/** Whether this machine lets the test run a child as another user (root drops to nobody with setpriv). */
const asAnotherUser = (): string[] | null => {
  if (process.getuid?.() !== 0) return [];
  return spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : null;
};

/** Whether a private mount namespace with a small tmpfs can be made (root in most CI containers). */
const canMountTmpfs = (dir: string) => spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$1"', 'sh', dir]).status === 0;

describe('starting with bad settings or an unusable data folder', () => {
  let dir: string;
  let file: string;
  let gallery: string;
  let manifest: string;

  beforeAll(async () => {
    dir = tempDir();
    file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'not a folder\n');
    gallery = path.join(dir, 'img');
    manifest = await makeColourGallery(gallery, 1, ['red']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('npm start lists every bad setting at once and exits 2, as the CLI lists them', async () => {
    const start = await runStart({ PORT: 'abc', REFERENT_BATCH_SIZE: '-1', REFERENT_DATA_DIR: path.join(dir, 'unused') });
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(/^referent: Invalid configuration:\n {2}PORT: .*\n {2}REFERENT_BATCH_SIZE: .*\n$/);
    expect(fs.existsSync(path.join(dir, 'unused'))).toBe(false);
  });

  it('refuses to serve on a non-loopback HOST without REFERENT_WEB_TOKEN, before touching the data folder (exit 2)', async () => {
    const data = path.join(dir, 'exposed');
    const start = await runStart({ HOST: '0.0.0.0', REFERENT_DATA_DIR: data });
    expect(start.code).toBe(2);
    expectOneClearLine(start, /^referent: Set REFERENT_WEB_TOKEN .*HOST=0\.0\.0\.0/);
    expect(fs.existsSync(data)).toBe(false);
    const serve = await runCli(['serve', '--data-dir', data], { HOST: '10.1.2.3' });
    expect(serve.code).not.toBe(0);
    expectOneClearLine(serve, /^referent: Set REFERENT_WEB_TOKEN .*HOST=10\.1\.2\.3/);
  });

  it('says which PORT is taken instead of crashing (exit 2)', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const start = await runStart({ PORT: String(port), REFERENT_DATA_DIR: path.join(dir, 'busy') });
      expect(start.code).toBe(2);
      expectOneClearLine(start, new RegExp(`^referent: 127\\.0\\.0\\.1:${port} is already in use.*PORT`));
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('a data folder that is a file: one line naming it, exit 1, from npm start and every command that opens it', async () => {
    const named = /^referent: The data folder .*a-file is a file, not a folder: point REFERENT_DATA_DIR \(or --data-dir\) at a folder\.$/;
    const start = await runStart({ REFERENT_DATA_DIR: file });
    expect(start.code).toBe(1);
    expectOneClearLine(start, named);
    for (const args of [['search', 'red'], ['ingest', gallery], ['index', 'status'], ['collections'], ['show', 'RED-1'], ['serve']]) {
      const r = await runCli([...args, '--data-dir', file, '--model', tinyModelDir]);
      expect(r.code, args.join(' ')).toBe(1);
      expectOneClearLine(r, named);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('not a folder\n');
  });

  it('a data folder under a file: one line naming the file in the way, exit 1', async () => {
    const under = path.join(file, 'data');
    const blocked = new RegExp(`^referent: The data folder .*a-file/data cannot be created: .*a-file is a file, not a folder\\.`);
    const start = await runStart({ REFERENT_DATA_DIR: under });
    expect(start.code).toBe(1);
    expectOneClearLine(start, blocked);
    const r = await runCli(['ingest', gallery, '--model', tinyModelDir], { REFERENT_DATA_DIR: under });
    expect(r.code).toBe(1);
    expectOneClearLine(r, blocked);
  });

  it('a data folder this user may not write: one line, exit 1', async (context) => {
    const wrap = asAnotherUser();
    if (wrap === null) return context.skip('running as root without setpriv: no user to whom a folder is closed');
    const closed = path.join(dir, 'closed');
    fs.mkdirSync(path.join(closed, 'data'), { recursive: true });
    // Readable and searchable by all (the child must reach it), writable by its owner only; as another user when root.
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(closed, wrap.length ? 0o755 : 0o555);
    fs.chmodSync(path.join(closed, 'data'), wrap.length ? 0o755 : 0o555);
    try {
      const start = await runStart({ REFERENT_DATA_DIR: path.join(closed, 'data') }, { wrap });
      expect(start.code).toBe(1);
      expectOneClearLine(start, /^referent: The data folder .*closed\/data is not writable by this user \(access .*: EACCES\)/);
      const fresh = await runStart({ REFERENT_DATA_DIR: path.join(closed, 'new') }, { wrap });
      expect(fresh.code).toBe(1);
      expectOneClearLine(fresh, /^referent: The data folder .*closed\/new is not writable by this user \(mkdir .*: EACCES\)/);
    } finally {
      fs.chmodSync(closed, 0o755);
      fs.chmodSync(path.join(closed, 'data'), 0o755);
      fs.chmodSync(dir, 0o700);
    }
  });

  it('a full disk while the data folder is made: one line saying so, exit 1', async () => {
    const data = path.join(dir, 'full');
    const start = await runStart({ REFERENT_DATA_DIR: data, FULL_DISK_UNDER: data }, { nodeArgs: ['--import', PRELOAD_FULL_DISK] });
    expect(start.code).toBe(1);
    expectOneClearLine(start, /^referent: The disk is full while writing the data folder .*full; nothing already stored was lost\. Free some space and retry\.$/);
  });

  it('a real full disk (a tmpfs filled up), under a new and under an existing data folder: one line each, exit 1', async (context) => {
    const mnt = path.join(dir, 'mnt');
    fs.mkdirSync(mnt);
    if (!canMountTmpfs(mnt)) return context.skip('this machine does not allow a private tmpfs mount (needs root in a mount namespace)');
    const existing = path.join(dir, 'existing');
    const referent = await openReferent(testConfig(existing));
    await ingest(referent, await readSources(manifest), { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 100 });
    await referent.shutdown();
    // In its own mount namespace the tmpfs vanishes with the child: nothing to unmount, whatever happens.
    const fill = 'mount -t tmpfs -o size=4m tmpfs "$1" && { [ -z "$2" ] || cp -r "$2" "$1/data"; } && { dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true; } && shift 2 && exec "$@"';
    const wrap = (copy: string) => ['unshare', '-m', 'sh', '-c', fill, 'sh', mnt, copy];
    const full = /^referent: The disk is full while (writing|opening) .*mnt\/data.*; nothing already stored was lost\. Free some space and retry\.$/;
    for (const copy of ['', existing]) {
      const start = await runStart({ REFERENT_DATA_DIR: path.join(mnt, 'data') }, { wrap: wrap(copy) });
      expect(start.code, copy || 'new folder').toBe(1);
      expectOneClearLine(start, full);
    }
  });
});
