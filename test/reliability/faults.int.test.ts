/**
 * kill -9 at seeded points of every kind of write, and a disk that fills part-way: nothing
 * acknowledged is lost, catalogue, index, references and media agree, and a full disk is refused
 * as DISK_FULL. `npm run reliability` runs the same harnesses with many more runs. The kills run on
 * every catalogue engine (SQLite, PGlite, and the PostgreSQL of REFERENT_TEST_DATABASE_URL when set).
 */
import { describe, expect, it } from 'vitest';
import { runDiskFull } from './disk-full.js';
import { testEngines } from './engines.js';
import { runFaults } from './faults.js';

describe('faults', () => {
  for (const engine of testEngines()) {
    it(`survives kill -9 inside ingest, add, describe, review, forget and shutdown, and between them (${engine.name})`, async () => {
      const tally = await runFaults({ seed: 7, runs: 6, engine });
      expect(tally.failures).toEqual([]);
      expect(tally.faultsInjected).toBeGreaterThanOrEqual(4);
      expect(tally.faultsSurvived).toBe(tally.faultsInjected);
      expect(tally.itemsLost).toBe(0);
    }, 240_000);

    it(`kill -9 inside forget: an acknowledged forget leaves no trace, one cut short is whole or not at all (${engine.name})`, async () => {
      const lines: string[] = [];
      // Its transaction's start, its end before COMMIT, its commit, and the deletion of its files after.
      const points = ['BEGIN', 'before .*COMMIT', 'committed', '^(rm|unlink)$'];
      const tally = await runFaults({ seed: 3, runs: 7, kinds: ['forget'], points, engine, progress: (line) => lines.push(line) });
      expect(tally.failures).toEqual([]);
      expect(tally.faultsSurvived).toBe(tally.faultsInjected);
      expect(tally.itemsLost).toBe(0);
      const inForget = lines.filter((line) => / during forget, /.test(line));
      expect(inForget, lines.join('\n')).toHaveLength(points.length);
      expect(inForget.find((line) => /before .*COMMIT/.test(line))).toMatch(/the forget it cut short was not done/);
      expect(inForget.find((line) => /\((SQLite )?committed\)/.test(line))).toMatch(/the forget it cut short was done whole/);
    }, 300_000);
  }

  // The data folder's disk: on PostgreSQL the catalogue's disk is the server's, which no test here fills.
  it('refuses writes on a full disk with DISK_FULL and loses nothing stored, then carries on once space is back', async () => {
    const tally = await runDiskFull({ seed: 7, runs: 3 });
    expect(tally.failures).toEqual([]);
    expect(tally.faultsInjected).toBeGreaterThanOrEqual(2);
    expect(tally.faultsSurvived).toBe(tally.faultsInjected);
    expect(tally.itemsLost).toBe(0);
  }, 180_000);
});
