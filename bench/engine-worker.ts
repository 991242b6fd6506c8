/**
 * One "server" of the two-servers measurement (engine-servers.ts), in a process of its own: opens
 * the schema with a PgCatalog as a Referent server does, warms up, says it is ready, and on "go"
 * runs its queries through pgvector one after another, then reports how long they took.
 */
import { readFile } from 'node:fs/promises';
import { PgCatalog } from '../src/catalog/postgres/pg-catalog.js';
import type { WorkerArgs } from './engine-servers.js';

const WARMUP = 20;

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
  const bytes = await readFile(a.queriesFile);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const queries = Array.from({ length: all.length / a.dim }, (_, i) => all.subarray(i * a.dim, (i + 1) * a.dim));
  const catalog = await PgCatalog.open(a.url, { schema: a.schema, listen: false });
  try {
    const ask = (i: number) => catalog.searchImages(a.modelId, queries[(a.offset + i) % queries.length]!, 10);
    for (let i = 0; i < WARMUP; i++) await ask(i);
    const go = new Promise((resolve) => process.once('message', resolve));
    process.send!({ ready: true });
    await go;
    const started = performance.now();
    for (let i = 0; i < a.count; i++) await ask(i);
    process.send!({ done: true, seconds: (performance.now() - started) / 1000 });
  } finally {
    await catalog.close();
  }
}

main().then(
  () => process.disconnect?.(),
  (err: unknown) => {
    process.send?.({ error: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
