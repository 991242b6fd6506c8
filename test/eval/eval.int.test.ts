/**
 * `referent eval`: the embeddings JSONL reader, the evaluation (plain vs refined), and both inputs
 * through the CLI (a simulated JSONL, and a CUHK-PEDES-style annotation file run through the demo
 * encoder).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM, simulate } from '../../bench/refine-sim.js';
import { ErrorCode } from '../../src/errors.js';
import { readEmbeddingsJsonl } from '../../src/eval/embeddings-jsonl.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { solidPng } from '../../src/image/image-io.js';
import { DEFAULT_FUSION_OPTIONS, DEFAULT_PIPELINE } from '../../src/method/defaults.js';
import { tempDir, tinyModelDir } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeJsonl(name: string, records: object[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

const small = { ...DEFAULT_SIM, entities: 120, seed: 7 };
const options = { params: DEFAULT_PIPELINE, fusion: DEFAULT_FUSION_OPTIONS };

describe('embeddings JSONL', () => {
  it('reads records, normalises vectors and keeps details and groups', async () => {
    const file = writeJsonl('ok.jsonl', [
      { id: 'a', identity: 1, kind: 'image', role: 'gallery', vector: [3, 4] },
      { id: 'q', identity: 1, kind: 'text', role: 'query', vector: [1, 0], details: [[0, 2]], group: 'ambiguous' },
    ]);
    const data = await readEmbeddingsJsonl(file);
    expect(data.dim).toBe(2);
    expect([...data.images[0]!.vector]).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(data.texts[0]).toMatchObject({ identity: '1', role: 'query', group: 'ambiguous' });
    expect([...data.texts[0]!.details[0]!]).toEqual([0, 1]);
  });

  it('reports every bad line with its number', async () => {
    const file = writeJsonl('bad.jsonl', [
      { id: 'a', identity: 1, kind: 'image', role: 'query', vector: [1, 0] },
      { id: 'b', identity: 1, kind: 'text', role: 'query', vector: [1, 0, 0] },
      { id: 'c', kind: 'text', role: 'query', vector: [1, 0] },
    ]);
    const err = await readEmbeddingsJsonl(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.UsageInvalid, details: { problems: [expect.stringMatching(/^line 1:/), expect.stringMatching(/^line 2:/), expect.stringMatching(/^line 3:/)] } });
  });
});

describe('evaluate', () => {
  it('without references, the refined ranking is the plain one, exactly', async () => {
    const records = simulate(small).filter((r) => r.role !== 'reference');
    const data = await readEmbeddingsJsonl(writeJsonl('noref.jsonl', records));
    const r = await evaluate(data, options);
    expect(r.references).toBe(0);
    expect(r.refined).toEqual(r.plain);
  });

  it('with references, refinement raises Rank-1 on the simulation', async () => {
    const data = await readEmbeddingsJsonl(writeJsonl('sim.jsonl', simulate(small)));
    const r = await evaluate(data, options);
    expect(r.references).toBeGreaterThan(0);
    expect(r.refined!.rank[1]!).toBeGreaterThan(r.plain.rank[1]!);
    expect(r.groups['identity has a reference']!.refined!.rank[1]!).toBeGreaterThan(r.groups['identity has a reference']!.plain.rank[1]!);
  });
});

describe('referent eval (CLI)', () => {
  it('prints plain and refined metrics side by side for a JSONL file, and JSON on request', async () => {
    const file = writeJsonl('cli.jsonl', simulate(small));
    const text = await runCli(['eval', file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/plain\s+[\d.]+\s+[\d.]+/);
    expect(text.stdout).toMatch(/refined\s+[\d.]+\s+[\d.]+/);
    expect(text.stdout).toMatch(/Rank-1 gain from refinement: -?[\d.]+ points/);
    const json = await runCli(['eval', file, '--json', '--no-refine']);
    const report = JSON.parse(json.stdout);
    expect(report.refined).toBeNull();
    expect(report.plain.queries).toBe(small.entities * small.queriesPerEntity);
  });

  it('runs the encoder over a CUHK-PEDES-style annotation file', async () => {
    const imgDir = path.join(dir, 'imgs');
    fs.mkdirSync(imgDir);
    const colours: Record<string, [number, number, number]> = { red: [220, 30, 30], blue: [30, 60, 220], green: [30, 180, 40] };
    const entries = [];
    for (const [name, rgb] of Object.entries(colours)) {
      for (let i = 0; i < 3; i++) {
        const file = `${name}-${i}.png`;
        fs.writeFileSync(path.join(imgDir, file), await solidPng(40 + i, 40, rgb.map((c) => c + i * 3) as [number, number, number]));
        entries.push({ id: name, file_path: file, captions: [`a ${name} thing`, `something ${name}`], split: 'test' });
      }
    }
    entries.push({ id: 'red', file_path: 'red-0.png', captions: ['train only'], split: 'train' });
    const annotations = path.join(dir, 'reid_raw.json');
    fs.writeFileSync(annotations, JSON.stringify(entries));
    const r = await runCli(['eval', annotations, '--images', imgDir, '--reference-share', '1', '--json', '--model', tinyModelDir]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.gallery).toBe(9);
    expect(report.references).toBe(3);
    // Colour words find their colour with the demo encoder: every query's first hit is right.
    expect(report.plain.rank[1]).toBe(100);
    expect(report.refined.rank[1]).toBe(100);
    expect(report.plain.queries).toBe(12);
  });

  it('says what is wrong with a file that is neither format', async () => {
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, '{"not": "an array"}');
    const r = await runCli(['eval', file, '--model', tinyModelDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CUHK-PEDES\/RSTPReid-style/);
  });
});
