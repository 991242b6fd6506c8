/**
 * kill -9 at seeded points of every kind of write, and a disk that fills part-way: nothing
 * acknowledged is lost, catalogue, index, references and media agree, and a full disk is refused
 * as DISK_FULL. `npm run reliability` runs the same harnesses with many more runs.
 */
import { describe, expect, it } from 'vitest';
import { runDiskFull } from './disk-full.js';
import { runFaults } from './faults.js';

describe('faults', () => {
  it('survives kill -9 inside ingest, add, describe, review, forget and shutdown, and between them', async () => {
    const tally = await runFaults({ seed: 7, runs: 6 });
    expect(tally.failures).toEqual([]);
    expect(tally.faultsInjected).toBeGreaterThanOrEqual(4);
    expect(tally.faultsSurvived).toBe(tally.faultsInjected);
    expect(tally.itemsLost).toBe(0);
  }, 180_000);

  it('refuses writes on a full disk with DISK_FULL and loses nothing stored, then carries on once space is back', async () => {
    const tally = await runDiskFull({ seed: 7, runs: 3 });
    expect(tally.failures).toEqual([]);
    expect(tally.faultsInjected).toBeGreaterThanOrEqual(2);
    expect(tally.faultsSurvived).toBe(tally.faultsInjected);
    expect(tally.itemsLost).toBe(0);
  }, 180_000);
});
