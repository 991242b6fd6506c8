/**
 * The shared engine's bad days, as an operator meets them through `npm start`: a wrong URL, a server
 * without pgvector, and a database that goes away under a running server and comes back. Each gives
 * one line that says what to fix (never a stack trace, never the password), and a running server
 * keeps running and recovers on its own.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { makeColourGallery, repoRoot, tempDir, tinyModelDir } from '../support/fixtures.js';
import { closedPort, startPglite, startPgliteOutage } from '../support/postgres.js';
import { runCli } from '../support/run-cli.js';
import { startServerProcess } from '../support/server-process.js';

/** `npm start` that is expected to stop at start: its exit status and everything it printed. */
function startAndExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'adapters', 'main.ts')], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', REFERENT_OFFLINE: '1', PORT: '0', REFERENT_MODEL: tinyModelDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, output })));
}

async function chat(base: string, text: string): Promise<{ status: number; reply: Reply }> {
  const res = await fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  return { status: res.status, reply: ((await res.json()) as { replies: Reply[] }).replies?.[0] as Reply };
}

describe('PostgreSQL faults through npm start', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const dataDir = () => {
    const dir = tempDir();
    dirs.push(dir);
    return path.join(dir, 'data');
  };
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a URL where nothing listens: one line naming the server, exit 1, no password', async () => {
    const url = `postgres://referent:s3cret-pw@127.0.0.1:${await closedPort()}/referent`;
    const { code, output } = await startAndExit({ REFERENT_DATA_DIR: dataDir(), REFERENT_DATABASE_URL: url });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([expect.stringMatching(/^referent: Cannot reach PostgreSQL at referent@127\.0\.0\.1:\d+\/referent \(ECONNREFUSED\): start the server/)]);
    expect(output).not.toContain('s3cret-pw');
  });

  it('a URL that is not PostgreSQL: a configuration error, exit 2', async () => {
    const { code, output } = await startAndExit({ REFERENT_DATA_DIR: dataDir(), REFERENT_DATABASE_URL: 'mysql://root:s3cret-pw@127.0.0.1/referent' });
    expect(code).toBe(2);
    expect(output).toMatch(/REFERENT_DATABASE_URL.*PostgreSQL URL/);
    expect(output).not.toContain('s3cret-pw');
    expect(output).not.toMatch(/^\s+at /m);
  });

  it('a server without pgvector: one line saying to install it, exit 1', async () => {
    const server = await startPglite({ vector: false });
    try {
      const { code, output } = await startAndExit({ REFERENT_DATA_DIR: dataDir(), REFERENT_DATABASE_URL: server.url });
      expect(code).toBe(1);
      expect(output.trim().split('\n')).toEqual([expect.stringMatching(/^referent: PostgreSQL at .* has no pgvector extension: install pgvector/)]);
    } finally {
      await server.stop();
    }
  });

  it('a database that goes away: requests get one clear line, the server keeps running and recovers when it returns', async () => {
    const pg = await startPgliteOutage();
    try {
      const env = { REFERENT_DATABASE_URL: pg.url, REFERENT_DATA_DIR: dataDir(), REFERENT_MODEL: tinyModelDir, REFERENT_OCR: 'false' };
      const ingest = await runCli(['ingest', await makeColourGallery(path.join(path.dirname(env.REFERENT_DATA_DIR), 'img'), 2, ['red', 'blue']), '--collection', 'parts'], env);
      expect(ingest.code, ingest.stderr).toBe(0);
      const server = await startServerProcess(env, { children });
      expect((await chat(server.base, 'red')).reply.cards[0]?.title).toMatch(/^RED-/);

      await pg.down();
      const during = await chat(server.base, 'red');
      expect(during.reply.kind).toBe('error');
      expect(during.reply.text).toMatch(/PostgreSQL at postgres@127\.0\.0\.1:\d+\/postgres/);
      expect(during.reply.text).not.toMatch(/\n\s+at /);
      expect(server.process.exitCode).toBeNull();

      await pg.up();
      // The pool opens new connections on the next request: no restart, nothing lost.
      const after = await chat(server.base, 'red');
      expect(after.reply.cards[0]?.title).toMatch(/^RED-/);
      expect(server.log()).not.toMatch(/unexpected error|^\s+at /m);
    } finally {
      await pg.stop();
    }
  }, 120_000);
});
