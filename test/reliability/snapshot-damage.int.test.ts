/**
 * Snapshots deleted, truncated or overwritten under the running server are written again while it
 * keeps answering; a kill -9 afterwards starts from them, and one before upkeep rebuilds.
 */
import { describe, expect, it } from 'vitest';
import { runSnapshotDamage } from './snapshot-damage.js';

describe('index snapshots damaged under a running server', () => {
  it('rewrites each one, keeps answering, and loses nothing across kill -9', async () => {
    const tally = await runSnapshotDamage({ seed: 3, rounds: 7 });
    expect(tally.failures).toEqual([]);
    expect(tally.faultsInjected).toBe(9);
    expect(tally.faultsSurvived).toBe(9);
    expect(tally.itemsLost).toBe(0);
  }, 180_000);
});
