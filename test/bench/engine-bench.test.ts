/**
 * The engines bench's command line and the exact answers its recall is measured against. The bench
 * itself is not run here: benchmarks print figures and never fail a test run.
 */
import { describe, expect, it } from 'vitest';
import { BenchUsageError, NO_DATABASE, parseEngineArgs } from '../../bench/engine-bench.js';
import { exactTopK, itemVector, makeEnginePlan } from '../../bench/engine-data.js';

const URL = 'postgres://bench@127.0.0.1:5432/referent';

describe('parseEngineArgs', () => {
  it('runs SQLite alone at 100k items by default, needing no database', () => {
    const o = parseEngineArgs(['--engine', 'sqlite'], {});
    expect(o).toMatchObject({ engines: ['sqlite'], items: 100_000, entities: 5000, databaseUrl: null, keep: false });
  });

  it('measures both engines with --engine both, the URL from --database-url or REFERENT_DATABASE_URL', () => {
    expect(parseEngineArgs(['--engine', 'both', '--database-url', URL], {})).toMatchObject({ engines: ['sqlite', 'postgres'], databaseUrl: URL });
    expect(parseEngineArgs(['--engine=postgres', '--items', '5000'], { REFERENT_DATABASE_URL: URL })).toMatchObject({ engines: ['postgres'], items: 5000, entities: 250, databaseUrl: URL });
    const other = 'postgresql://other@127.0.0.1/x';
    expect(parseEngineArgs(['--engine', 'postgres', '--database-url', other], { REFERENT_DATABASE_URL: URL }).databaseUrl).toBe(other);
  });

  it('says in one line how to get a database when PostgreSQL is asked for without one', () => {
    for (const engine of ['postgres', 'both']) {
      expect(() => parseEngineArgs(['--engine', engine], { REFERENT_DATABASE_URL: '' })).toThrow(new BenchUsageError(NO_DATABASE));
    }
    expect(NO_DATABASE).not.toContain('\n');
  });

  it('refuses an unknown engine, a URL that is not PostgreSQL, bad numbers and unknown flags', () => {
    const bad = [
      ['--engine', 'mysql'],
      ['--items', '5000'],
      ['--engine', 'postgres', '--database-url', 'mysql://x@127.0.0.1/y'],
      ['--engine', 'sqlite', '--items', '0'],
      ['--engine', 'sqlite', '--items', '1e3x'],
      ['--engine', 'sqlite', '--items', '1000', '--entities', '300'],
      ['--engine', 'sqlite', '--n', '5'],
    ];
    for (const argv of bad) expect(() => parseEngineArgs(argv, {}), argv.join(' ')).toThrow(BenchUsageError);
  });
});

describe('the engines bench data', () => {
  const plan = makeEnginePlan({ items: 600, entities: 30, queries: 12, warmup: 2, dim: 16, seed: 7 });

  it('answers the exact top 10 as a full sort does, over everything and within one collection', () => {
    for (const q of plan.queries) {
      const scored = Array.from({ length: plan.items }, (_, i) => ({ i, s: itemVector(plan, i).reduce((a, x, d) => a + x * q.vector[d]!, 0) })).sort((a, b) => b.s - a.s);
      expect(exactTopK(plan, q.vector, 10)).toEqual(scored.slice(0, 10).map((x) => x.i));
      const within = scored.filter((x) => plan.collectionOf[x.i] === q.collection);
      expect(exactTopK(plan, q.vector, 10, q.collection)).toEqual(within.slice(0, 10).map((x) => x.i));
    }
  });

  it('asks held-out queries: none is one of the indexed vectors', () => {
    const indexed = new Set(Array.from({ length: plan.items }, (_, i) => itemVector(plan, i).join(',')));
    expect(plan.queries.filter((q) => indexed.has(q.vector.join(',')))).toEqual([]);
    // Every collection is asked about.
    expect(new Set(plan.queries.map((q) => q.collection)).size).toBe(6);
  });
});
