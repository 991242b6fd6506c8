/**
 * "No leaks": a chat scope never sees or acts on a collection it was not granted, whatever path it
 * takes (the assistant, Slack's HTTP endpoint, Teams, the web chat, signed picture links); person
 * queries are always audited; `forget` leaves nothing of what it forgot, and neither does `faces off`
 * (leaks-faces.ts). One world (leaks-world.ts), seeded probes (leaks-probes.ts), judged by reading
 * the catalogue's storage directly (leaks-scan.ts), the same on every catalogue engine (engines.ts):
 * only the reader of the storage differs.
 */
import path from 'node:path';
import { mulberry32 } from '../../src/random.js';
import { type EngineKind, sqliteEngine } from './engines.js';
import { emptyTally, type Tally } from './tally.js';
import { Edges } from './leaks-edges.js';
import { faceProbes } from './leaks-faces.js';
import { forgetProbes } from './leaks-forget.js';
import { personProbes, scopeProbes } from './leaks-probes.js';
import { probeSignedLinks, probeWebMedia, type Run } from './leaks-run.js';
import { Inspector } from './leaks-scan.js';
import { startWorld } from './leaks-world.js';

/** The groups' names; on an engine other than SQLite each ends with the engine, as "(pglite)". */
export const LEAK_GROUPS = ['leaks: scopes on every path', 'leaks: person queries audited', 'leaks: forget removes everything'] as const;

export const groupName = (group: (typeof LEAK_GROUPS)[number], engine: string) => (engine === 'sqlite' ? group : `${group} (${engine})`);

/**
 * Runs the three groups and returns one Tally each, in order: scopes on every path (`rounds`
 * probes, plus signed-link pairs), person queries audited (every probe's audit rows are accounted
 * here, plus `rounds / 2` person queries of its own), forget removes everything (one forget, one
 * check per place that held it). `badInputs` counts probes or checks, `leaksFound` those that found
 * something, each with its lines in `failures`. The same seed sends the same probes. Starts and stops
 * everything it needs (the engine too: SQLite unless `engine` says otherwise), and deletes its data
 * folder.
 */
export async function runLeakProbes(options: { seed: number; rounds: number; engine?: EngineKind }): Promise<Tally[]> {
  const engine = await (options.engine ?? sqliteEngine).start();
  const [scopes, audits, forgets] = LEAK_GROUPS.map((g) => emptyTally(groupName(g, engine.name))) as [Tally, Tally, Tally];
  try {
    const world = await startWorld(engine.env);
    try {
      const ins = new Inspector(world.referent, await engine.reader(path.join(world.dir, 'data')));
      const run: Run = { world, edges: new Edges(world), ins, seed: options.seed, scopes, audits, notes: [] };
      try {
        await probe(run, options, forgets);
      } finally {
        await ins.close();
        if (run.notes.length) forgets.notes = run.notes;
      }
    } finally {
      await world.close();
    }
  } finally {
    await engine.stop();
  }
  return [scopes, audits, forgets];
}

async function probe(run: Run, options: { seed: number; rounds: number }, forgets: Tally): Promise<void> {
  const { world } = run;
  await scopeProbes(run, options.rounds);
  const rng = mulberry32(options.seed ^ 0x11c);
  const keys = world.items.map((i) => i.mediaKey);
  const pairs = Array.from({ length: Math.max(4, Math.ceil(options.rounds / 10)) }, (): [string, string] => {
    const a = Math.floor(rng() * keys.length);
    return [keys[a]!, keys[(a + 1 + Math.floor(rng() * (keys.length - 1))) % keys.length]!];
  });
  await probeSignedLinks(run, pairs);
  await probeWebMedia(run);
  await personProbes(run, Math.max(18, Math.ceil(options.rounds / 2)));
  const check = (name: string, problems: readonly string[]) => {
    forgets.badInputs++;
    if (problems.length === 0) return;
    forgets.leaksFound++;
    for (const p of problems) forgets.failures.push(`seed ${options.seed} forget, ${name}: ${p}`);
  };
  await forgetProbes(run, check);
  await faceProbes(run, check);
}
