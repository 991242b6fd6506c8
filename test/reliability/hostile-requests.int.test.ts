/**
 * The hostile-request harness at test size: every group sends something and every promise holds.
 * `npm run reliability` runs the same harness with more generated inputs.
 */
import { describe, expect, it } from 'vitest';
import { runHostileRequests } from './hostile-requests.js';

describe('hostile requests at every inbound HTTP edge', () => {
  it('refuses or survives every one, and keeps serving', async () => {
    const tallies = await runHostileRequests({ seed: 20240611, runs: 3 });
    expect(tallies.map((t) => t.name)).toEqual([
      'Hostile files through chat',
      'Over-long and malformed bodies',
      'Unknown and forged actions',
      'Slack signatures',
      'Bot Framework auth',
      'Media ids escaping the media folder',
    ]);
    for (const tally of tallies) {
      expect(tally.failures, tally.name).toEqual([]);
      expect(tally.badInputs, tally.name).toBeGreaterThan(0);
    }
  }, 120_000);
});
