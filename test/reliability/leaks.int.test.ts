/**
 * The short version of the leak probes (test/reliability/leaks.ts): every kind of request on every
 * path at least once from a seeded scope, the person queries against the audit log, and one forget
 * looked for everywhere. Each group must find nothing.
 */
import { describe, expect, it } from 'vitest';
import { runLeakProbes } from './leaks.js';
import type { Tally } from './tally.js';

describe('no leaks across scopes, audits and forget', () => {
  let tallies: Tally[] = [];
  const group = (name: string) => tallies.find((t) => t.name === name)!;

  it('runs every group', async () => {
    tallies = await runLeakProbes({ seed: 1, rounds: 45 });
    expect(tallies.map((t) => t.name)).toEqual(['leaks: scopes on every path', 'leaks: person queries audited', 'leaks: forget removes everything']);
    for (const t of tallies) expect(t.badInputs, t.name).toBeGreaterThan(0);
  }, 120_000);

  it.each(['leaks: scopes on every path', 'leaks: person queries audited', 'leaks: forget removes everything'])('%s: nothing found', (name) => {
    const t = group(name);
    expect(t.failures).toEqual([]);
    expect(t.leaksFound).toBe(0);
  });
});
