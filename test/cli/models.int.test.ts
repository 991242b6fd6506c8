/**
 * The model commands end to end: `referent models pull` from a fake hub on 127.0.0.1 (the real
 * Hugging Face protocol), `models list`, then searching with the model named by hub id, which must
 * make no network call at all once the model is present.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../models/fake-hub.js';
import { makeColourGallery, tempDir, tinyModelDir } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';

const HUB_ID = 'referent-test/tiny-clip';

describe('referent models', () => {
  let dir: string;
  let hub: FakeHub;
  const env = () => ({
    REFERENT_MODELS_DIR: path.join(dir, 'models'),
    REFERENT_DATA_DIR: path.join(dir, 'data'),
    REFERENT_HUB_URL: hub.url,
    REFERENT_OFFLINE: '0',
  });

  beforeAll(async () => {
    dir = tempDir();
    hub = await startFakeHub({ [HUB_ID]: tinyModelDir });
  });
  afterAll(async () => {
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists nothing before a pull', async () => {
    const r = await runCli(['models', 'list'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No models in');
  });

  it('pulls a model with progress, lists it, and then uses it without any network call', async () => {
    const pull = await runCli(['models', 'pull', HUB_ID], env());
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain('is complete in');
    expect(pull.stderr).toMatch(/Downloading|KB|B \//);
    const list = await runCli(['models', 'list'], env());
    expect(list.stdout).toMatch(new RegExp(`${HUB_ID}\\s+complete\\s+variants: fp32`));

    const manifest = await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'blue']);
    hub.requests.length = 0;
    expect((await runCli(['ingest', manifest, '--model', HUB_ID], env())).code).toBe(0);
    const search = await runCli(['search', 'red', '--json', '--limit', '2', '--model', HUB_ID], env());
    expect(search.code).toBe(0);
    const { hits } = JSON.parse(search.stdout) as { hits: Array<{ caption: string }> };
    expect(hits.map((h) => h.caption.split(' ')[1])).toEqual(['red', 'red']);
    expect(hub.requests).toEqual([]);
  });

  it('pulls a model on first use when it is missing and downloads are allowed', async () => {
    const fresh = { ...env(), REFERENT_MODELS_DIR: path.join(dir, 'models2'), REFERENT_DATA_DIR: path.join(dir, 'data2') };
    const r = await runCli(['index', 'status', '--model', HUB_ID], fresh);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tiny-clip');
    expect(fs.existsSync(path.join(dir, 'models2', 'referent-test', 'tiny-clip', 'onnx', 'text_model.onnx'))).toBe(true);
  });

  it('says the machine seems offline and names the folder to copy when the hub is unreachable', async () => {
    const r = await runCli(['models', 'pull', 'someone/absent'], { ...env(), REFERENT_HUB_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(path.join(dir, 'models', 'someone', 'absent'));
  });
});
