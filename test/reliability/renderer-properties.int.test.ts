/**
 * "Any text: no crash, everything escaped", small: the parser, Slack, Teams and the web page in
 * real Chromium, each over generated hostile text. `npm run reliability` runs the same properties large.
 */
import { describe, expect, it } from 'vitest';
import { runRendererProperties } from './renderer-properties.js';

describe('renderer properties', () => {
  it('parse and render any text without a crash, escaped, within each platform\'s limits', async () => {
    const tallies = await runRendererProperties({ seed: 20_417, runs: 200, webRuns: 100 });
    expect(tallies.map((t) => t.name)).toEqual(['parser: any text', 'Slack Block Kit: any text', 'Teams Adaptive Cards: any text', 'web page (Chromium): any text']);
    for (const tally of tallies) {
      expect(tally.failures, tally.name).toEqual([]);
      expect(tally.badInputs, tally.name).toBeGreaterThan(0);
    }
  }, 180_000);
});
