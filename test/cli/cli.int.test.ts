import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeColourGallery, tempDir, tinyModelDir } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';

interface JsonHit {
  itemId: number;
  score: number;
  caption: string | null;
  entity: { label: string } | null;
  media: { id: string; original: string; thumbnail: string };
}

describe('referent CLI', () => {
  let dir: string;
  let manifest: string;
  const env = () => ({ REFERENT_DATA_DIR: path.join(dir, 'data') });

  beforeAll(async () => {
    dir = tempDir();
    manifest = await makeColourGallery(path.join(dir, 'img'), 3, ['red', 'green', 'blue', 'yellow']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints help for the whole tool and for each command', async () => {
    const all = await runCli(['--help']);
    expect(all.code).toBe(0);
    for (const cmd of ['ingest', 'search', 'models pull', 'models list', 'index reembed', 'serve']) expect(all.stdout).toContain(cmd);
    const search = await runCli(['search', '--help']);
    expect(search.code).toBe(0);
    expect(search.stdout).toContain('--collection');
  });

  it('exits 2 with a hint on a usage error', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('referent --help');
    expect((await runCli(['search', '--nope'])).code).toBe(2);
    expect((await runCli(['ingest'])).code).toBe(2);
  });

  it('reports every bad configuration variable at once', async () => {
    const r = await runCli(['index', 'status'], { PORT: 'abc', REFERENT_BATCH_SIZE: '-1' });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('REFERENT_BATCH_SIZE');
  });

  it('ingests a JSONL manifest and puts the red images first for "red"', async () => {
    const ingest = await runCli(['ingest', manifest, '--model', tinyModelDir, '--collection', 'demo'], env());
    expect(ingest.code).toBe(0);
    expect(ingest.stderr).toContain('Added 12, skipped 0');
    expect(ingest.stderr).toContain('demo encoder');

    const search = await runCli(['search', 'red', '--json', '--model', tinyModelDir, '--limit', '5'], env());
    expect(search.code).toBe(0);
    const { hits } = JSON.parse(search.stdout) as { hits: JsonHit[] };
    expect(hits).toHaveLength(5);
    expect(hits.slice(0, 3).every((h) => h.caption!.startsWith('a red '))).toBe(true);
    expect(hits[3]!.caption).not.toMatch(/red/);
    expect(hits[0]!.score).toBeGreaterThan(hits[3]!.score);
    expect(hits[0]!.entity?.label).toMatch(/^RED-/);
    expect(fs.existsSync(hits[0]!.media.original)).toBe(true);
    expect(fs.existsSync(hits[0]!.media.thumbnail)).toBe(true);

    const again = await runCli(['ingest', manifest, '--model', tinyModelDir, '--collection', 'demo'], env());
    expect(again.stderr).toContain('Added 0, skipped 12');
  });

  it('searches by photo', async () => {
    const r = await runCli(['search', '--image', path.join(dir, 'img', 'yellow-2.png'), '--json', '--limit', '3', '--model', tinyModelDir], env());
    expect(r.code).toBe(0);
    const { hits } = JSON.parse(r.stdout) as { hits: JsonHit[] };
    expect(hits.map((h) => h.caption!.split(' ')[1])).toEqual(['yellow', 'yellow', 'yellow']);
  });

  it('exits 3 and lists the reasons when some images fail', async () => {
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'fake.jpg'), '<html>not an image</html>');
    fs.copyFileSync(path.join(dir, 'img', 'red-1.png'), path.join(bad, 'red.png'));
    const r = await runCli(['ingest', bad, '--model', tinyModelDir, '--collection', 'other'], env());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/failed fake\.jpg: .*\[IMAGE_UNSUPPORTED\]/);
    expect(r.stderr).toContain('Added 1,');
  });

  it('names the folder to copy a model into when it is missing and downloads are off', async () => {
    const models = path.join(dir, 'models');
    const r = await runCli(['search', 'red', '--model', 'someone/some-clip'], { ...env(), REFERENT_MODELS_DIR: models });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(path.join(models, 'someone', 'some-clip'));
    expect(r.stderr).toContain('models pull');
  });

  it('refuses a data folder indexed with another model, and re-embeds it on request', async () => {
    const data = { REFERENT_DATA_DIR: path.join(dir, 'switch') };
    expect((await runCli(['ingest', manifest, '--model', tinyModelDir], data)).code).toBe(0);

    const refused = await runCli(['search', 'red', '--model', tinyModelDir, '--variant', 'quantized'], data);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('referent/tiny-clip-demo');
    expect(refused.stderr).toContain('index reembed');

    const reembed = await runCli(['index', 'reembed', '--model', tinyModelDir, '--variant', 'quantized'], data);
    expect(reembed.code).toBe(0);
    expect(reembed.stdout).toContain('Re-embedded 12 images');

    const after = await runCli(['search', 'red', '--json', '--limit', '3', '--model', tinyModelDir, '--variant', 'quantized'], data);
    expect(after.code).toBe(0);
    const { hits } = JSON.parse(after.stdout) as { hits: JsonHit[] };
    expect(hits.every((h) => h.caption!.startsWith('a red '))).toBe(true);
    // …and now the old model is the one refused.
    expect((await runCli(['search', 'red', '--model', tinyModelDir], data)).code).toBe(1);
  });

  it('shows index status', async () => {
    const r = await runCli(['index', 'status', '--model', tinyModelDir], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/catalogue\s+schema v6, 13 images in 2 collections/);
    expect(r.stdout).toMatch(/^faces\s+off in every collection$/m);
    expect(r.stdout).toMatch(/image index\s+13 images/);
    expect(r.stdout).toMatch(/references\s+([1-9]\d*) entit(?:y|ies) with a reference, of \1; refinement on/);
  });
});
