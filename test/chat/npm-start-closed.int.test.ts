/**
 * Closed by default, through `npm start` itself (the real server in a child process): without a
 * Bot Framework app id and without REFERENT_TEAMS_LOCAL, the Teams endpoint answers 401 to an
 * activity that would have been answered in local mode, and the start-up line says how to open it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, tinyModelDir } from '../support/fixtures.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';

describe('npm start, closed by default', () => {
  let dir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dir = tempDir();
    server = await startServerProcess({ REFERENT_DATA_DIR: path.join(dir, 'data'), REFERENT_MODEL: tinyModelDir }, { ready: /Teams: / });
  }, 60_000);
  afterAll(async () => {
    const child = server?.process;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says the Teams endpoint is off and how to configure it', () => {
    expect(server.log()).toMatch(/Teams: off \(\/api\/messages answers 401\): set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD .* or REFERENT_TEAMS_LOCAL=true/);
  });

  it('refuses an unauthenticated Teams activity from this very machine with 401', async () => {
    const activity = {
      type: 'message',
      id: 'a1',
      text: 'red',
      from: { id: 'u1', name: 'Mallory', aadObjectId: 'aad-1' },
      recipient: { id: 'bot' },
      conversation: { id: 'c1', conversationType: 'personal', tenantId: 't1' },
      channelId: 'msteams',
      serviceUrl: 'http://127.0.0.1:9/',
    };
    const res = await fetch(`${server.base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    expect(res.status).toBe(401);
  });
});
