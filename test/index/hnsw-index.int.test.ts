import { copyFile, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredVectors } from '../../bench/clustered.js';
import { ErrorCode, isReferentError } from '../../src/errors.js';
import { ExactIndex } from '../../src/index/exact-index.js';
import { HnswIndex } from '../../src/index/hnsw-index.js';
import { vectorIndexContract } from './vector-index.contract.js';

// A tiny initial capacity so the contract's growth test goes through several resizes.
vectorIndexContract('HnswIndex', (dim) => HnswIndex.create({ dim, capacity: 16 }));

function recallAt10(hnsw: HnswIndex, exact: ExactIndex, queries: Float32Array[]): number {
  let found = 0;
  for (const q of queries) {
    const got = new Set(hnsw.search(q, 10).map((h) => h.id));
    found += exact.search(q, 10).filter((h) => got.has(h.id)).length;
  }
  return found / (10 * queries.length);
}

function build(n: number, dim: number, seed: number) {
  const set = clusteredVectors({ n, dim, queries: 100, seed });
  const hnsw = HnswIndex.create({ dim });
  const exact = new ExactIndex(dim);
  set.vectors.forEach((v, i) => {
    hnsw.add(`v${i}`, v);
    exact.add(`v${i}`, v);
  });
  return { ...set, hnsw, exact };
}

async function corruptReason(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    if (isReferentError(err, ErrorCode.IndexCorrupt)) return err.details.reason;
    throw err;
  }
  throw new Error('expected INDEX_CORRUPT, but the snapshot loaded');
}

describe('HnswIndex recall', () => {
  it('finds ≥ 95% of the exact top 10 on 5k clustered vectors', () => {
    const { hnsw, exact, queries } = build(5000, 128, 1);
    expect(recallAt10(hnsw, exact, queries)).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps its recall under churn, and reuses deleted slots past the tombstone limit', () => {
    const { hnsw, exact, queries, vectors } = build(2000, 64, 2);
    const fresh = clusteredVectors({ n: 2000, dim: 64, seed: 99 }).vectors;
    for (let i = 0; i < 2000; i += 2) {
      hnsw.remove(`v${i}`);
      exact.remove(`v${i}`);
    }
    expect(hnsw.stats().deleted).toBe(1000);
    for (let i = 0; i < 1000; i++) {
      hnsw.add(`w${i}`, fresh[i]!);
      exact.add(`w${i}`, fresh[i]!);
    }
    const { live, deleted } = hnsw.stats();
    expect(live).toBe(2000);
    expect(deleted).toBeLessThanOrEqual(Math.ceil(0.3 * (live + deleted)));
    expect(recallAt10(hnsw, exact, queries)).toBeGreaterThanOrEqual(0.95);
    expect(hnsw.search(vectors[0]!, 2000).some((h) => h.id === 'v0')).toBe(false);
  });
});

describe('HnswIndex snapshots', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'referent-hnsw-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A saved snapshot of 300 vectors with a few removals, under a fresh base path. */
  async function saved(name: string, dim = 32) {
    const set = build(300, dim, 3);
    for (let i = 0; i < 300; i += 7) set.hnsw.remove(`v${i}`);
    const base = join(dir, name);
    await set.hnsw.saveSnapshot(base, 42);
    return { ...set, base };
  }

  it('round-trips results, watermark and removals, leaving no temporary files', async () => {
    const { hnsw, queries, base } = await saved('round-trip');
    const { index, watermark } = await HnswIndex.loadSnapshot(base, { dim: 32 });
    expect(watermark).toBe(42);
    expect(index.size()).toBe(hnsw.size());
    expect(index.ids().sort()).toEqual(hnsw.ids().sort());
    expect(index.has('v0')).toBe(false);
    expect(index.efSearch).toBe(64);
    for (const q of queries.slice(0, 20)) expect(index.search(q, 10)).toEqual(hnsw.search(q, 10));
    expect(index.search(queries[0]!, 300).some((h) => h.id === 'v7')).toBe(false);
    expect((await readdir(dir)).filter((f) => f.startsWith('round-trip.'))).toEqual(['round-trip.hnsw', 'round-trip.json']);

    index.add('v0', queries[0]!); // the loaded index keeps working and saves again over the old pair
    await index.saveSnapshot(base, 43);
    const again = await HnswIndex.loadSnapshot(base, { dim: 32, efSearch: 100 });
    expect(again.watermark).toBe(43);
    expect(again.index.efSearch).toBe(100);
    expect(again.index.search(queries[0]!, 1)[0]?.id).toBe('v0');
  });

  it('rejects a truncated .hnsw file', async () => {
    const { base } = await saved('truncated');
    const { size } = await stat(`${base}.hnsw`);
    await truncate(`${base}.hnsw`, Math.floor(size / 2));
    expect(await corruptReason(HnswIndex.loadSnapshot(base, { dim: 32 }))).toBe('size-mismatch');
  });

  it('reports a missing sidecar or graph file as reason "missing"', async () => {
    const { base } = await saved('missing');
    await copyFile(`${base}.json`, join(dir, 'missing-copy.json'));
    await unlink(`${base}.json`);
    expect(await corruptReason(HnswIndex.loadSnapshot(base, { dim: 32 }))).toBe('missing');
    await copyFile(join(dir, 'missing-copy.json'), `${base}.json`);
    await unlink(`${base}.hnsw`);
    expect(await corruptReason(HnswIndex.loadSnapshot(base, { dim: 32 }))).toBe('missing');
    expect(await corruptReason(HnswIndex.loadSnapshot(join(dir, 'never-saved'), { dim: 32 }))).toBe('missing');
  });

  it('rejects bytes flipped in the middle of the graph file', async () => {
    const { base } = await saved('flipped');
    const bytes = await readFile(`${base}.hnsw`);
    const mid = Math.floor(bytes.length / 2);
    for (let i = mid; i < mid + 8; i++) bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(`${base}.hnsw`, bytes);
    expect(await corruptReason(HnswIndex.loadSnapshot(base, { dim: 32 }))).toBe('checksum-mismatch');
  });

  it('rejects a snapshot of another dimension', async () => {
    const { base } = await saved('dim');
    expect(await corruptReason(HnswIndex.loadSnapshot(base, { dim: 64 }))).toBe('dim-mismatch');
  });

  it('detects a crash between the two renames (new graph, old sidecar)', async () => {
    const old = await saved('crash');
    const other = await saved('crash-next', 32);
    other.hnsw.add('extra', other.queries[0]!);
    await other.hnsw.saveSnapshot(other.base, 50);
    await copyFile(`${other.base}.hnsw`, `${old.base}.hnsw`);
    expect(await corruptReason(HnswIndex.loadSnapshot(old.base, { dim: 32 }))).toMatch(/mismatch/);
  });

  it('rejects an unparsable sidecar and one whose label table disagrees with the graph', async () => {
    const { base } = await saved('sidecar');
    const json = await readFile(`${base}.json`, 'utf8');
    await writeFile(`${base}.json`, json.slice(0, 40));
    expect(await corruptReason(HnswIndex.loadSnapshot(base, { dim: 32 }))).toBe('sidecar-invalid');
    const sidecar = JSON.parse(json) as { labels: Array<string | null>; live: number };
    const dropped = sidecar.labels.pop();
    if (dropped !== null) sidecar.live -= 1;
    await writeFile(`${base}.json`, JSON.stringify(sidecar));
    expect(await corruptReason(HnswIndex.loadSnapshot(base, { dim: 32 }))).toBe('count-mismatch');
  });

  it('refuses writes while the graph file is being written, but still answers searches', async () => {
    const { hnsw, queries } = build(300, 32, 4);
    const saving = hnsw.saveSnapshot(join(dir, 'busy'), 1);
    expect(() => hnsw.add('late', queries[0]!)).toThrow(/snapshot/);
    expect(() => hnsw.remove('v1')).toThrow(/snapshot/);
    expect(hnsw.search(queries[0]!, 5)).toHaveLength(5);
    await expect(hnsw.saveSnapshot(join(dir, 'busy-2'), 1)).rejects.toThrow(/already/);
    await saving;
    hnsw.add('late', queries[0]!);
    expect(hnsw.has('late')).toBe(true);
  });
});
