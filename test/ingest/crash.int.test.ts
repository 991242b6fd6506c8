/**
 * Nothing lost: an ingest is SIGKILLed in the middle, several times at different points; afterwards
 * every item it had reported as added is in the catalogue and searchable, and the index agrees with
 * the catalogue. Kill points come from the count of reported items, never from timing.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReferent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { makeColourGallery, tempDir, testConfig, tinyModelDir } from '../support/fixtures.js';
import { runCli, spawnCli } from '../support/run-cli.js';

interface Added {
  itemId: number;
  origin: string;
}

/** Starts an ingest and SIGKILLs it right after it has reported `killAfter` added items. */
function ingestAndKill(manifest: string, env: Record<string, string>, killAfter: number): Promise<{ added: Added[]; killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(['ingest', manifest, '--events', '--model', tinyModelDir, '--collection', 'crash'], env);
    const added: Added[] = [];
    let killed = false;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string; itemId: number; origin: string };
      if (event.event !== 'added') return;
      added.push({ itemId: event.itemId, origin: event.origin });
      if (added.length >= killAfter && !killed) killed = child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ added, killed, stderr }));
  });
}

describe('a SIGKILL in the middle of an ingest', () => {
  let dir: string;
  let manifest: string;
  const env = () => ({ REFERENT_DATA_DIR: path.join(dir, 'data'), REFERENT_BATCH_SIZE: '3' });

  beforeAll(async () => {
    dir = tempDir();
    manifest = await makeColourGallery(path.join(dir, 'img'), 40, ['red', 'green', 'blue']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loses no reported item, and a re-run completes the ingest without duplicates', async () => {
    const reported: Added[] = [];
    // Three crashes at different depths; each run resumes where the previous one died.
    for (const killAfter of [7, 23, 5]) {
      const { added, killed, stderr } = await ingestAndKill(manifest, env(), killAfter);
      expect(killed, stderr).toBe(true);
      reported.push(...added);

      const referent = await openReferent(testConfig(path.join(dir, 'data')));
      try {
        for (const { itemId, origin } of reported) {
          expect(await referent.catalog.getItem(itemId), `item ${itemId} (${origin})`).not.toBeNull();
          expect(await referent.index.holds(itemId), `item ${itemId} in the index`).toBe(true);
        }
        expect(await referent.index.count()).toBe(await referent.catalog.countItemVectors(referent.encoder.modelId));
        expect(await referent.index.count()).toBe(await referent.catalog.countItems());
      } finally {
        await referent.shutdown();
      }
    }

    const finish = await runCli(['ingest', manifest, '--model', tinyModelDir, '--collection', 'crash'], env());
    expect(finish.code).toBe(0);
    const referent = await openReferent(testConfig(path.join(dir, 'data')));
    try {
      expect(await referent.catalog.countItems()).toBe(120);
      expect(await referent.index.count()).toBe(120);
      const reds = await searchItems(referent, { text: 'red', limit: 40, refine: false }, testConfig(dir));
      expect(reds.every((h) => h.item.caption!.startsWith('a red '))).toBe(true);
      const redIds = new Set(reds.map((h) => h.itemId));
      for (const { itemId, origin } of reported) if (origin.startsWith('red-')) expect(redIds.has(itemId)).toBe(true);
    } finally {
      await referent.shutdown();
    }
  });
});
