/**
 * The short version of the leak probes (test/reliability/leaks.ts): every kind of request on every
 * path at least once from a seeded scope, the person queries against the audit log, and one forget
 * looked for everywhere. Each group must find nothing. The same probes run on every catalogue
 * engine: SQLite, PGlite, and the real PostgreSQL of REFERENT_TEST_DATABASE_URL when it is set.
 */
import { describe, expect, it } from 'vitest';
import { testEngines } from './engines.js';
import { groupName, LEAK_GROUPS, runLeakProbes } from './leaks.js';
import type { Tally } from './tally.js';

for (const engine of testEngines()) {
  describe(`no leaks across scopes, audits and forget (${engine.name})`, () => {
    let tallies: Tally[] = [];
    const names = LEAK_GROUPS.map((g) => groupName(g, engine.name));
    const group = (name: string) => tallies.find((t) => t.name === name)!;

    it('runs every group', async () => {
      tallies = await runLeakProbes({ seed: 1, rounds: 45, engine });
      expect(tallies.map((t) => t.name)).toEqual(names);
      for (const t of tallies) expect(t.badInputs, t.name).toBeGreaterThan(0);
      // Every check ran here: the raw bytes too (the test servers let it read them).
      expect(tallies.flatMap((t) => t.notes ?? [])).toEqual([]);
    }, 240_000);

    it.each(names)('%s: nothing found', (name) => {
      const t = group(name);
      expect(t.failures).toEqual([]);
      expect(t.leaksFound).toBe(0);
    });
  });
}
