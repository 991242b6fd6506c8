/**
 * Two servers on one database: child processes (engine-worker.ts), each with its own PgCatalog and
 * pool as a Referent server has, search the same schema through pgvector (PgCatalog.searchImages,
 * k 10, one query in flight per process) for a fixed number of queries. One process alone first,
 * then two started together; queries per second for each. Everything here runs on the machine
 * that runs the database, so this measures how two servers share it, not scale-out.
 */
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServersReport {
  /** Queries per process. */
  queries: number;
  alone: number;
  /** Both processes' queries over the time the slower one took. */
  together: number;
  perProcess: number[];
}

export interface WorkerArgs {
  url: string;
  schema: string;
  modelId: string;
  queriesFile: string;
  dim: number;
  count: number;
  /** Where in the query list this process starts (so two processes do not ask the same query at once). */
  offset: number;
}

type WorkerMessage = { ready: true } | { done: true; seconds: number } | { error: string };

const workerPath = fileURLToPath(new URL('./engine-worker.ts', import.meta.url));

export async function measureServers(o: { url: string; schema: string; modelId: string; queries: Float32Array[]; count: number; dir: string }): Promise<ServersReport> {
  const dim = o.queries[0]?.length ?? 0;
  const all = new Float32Array(o.queries.length * dim);
  o.queries.forEach((q, i) => all.set(q, i * dim));
  const queriesFile = join(o.dir, 'server-queries.f32');
  await writeFile(queriesFile, Buffer.from(all.buffer, all.byteOffset, all.byteLength));
  const args = (offset: number): WorkerArgs => ({ url: o.url, schema: o.schema, modelId: o.modelId, queriesFile, dim, count: o.count, offset });
  const [alone] = await runTogether([args(0)]);
  const pair = await runTogether([args(0), args(Math.floor(o.queries.length / 2))]);
  return {
    queries: o.count,
    alone: o.count / alone!,
    together: (2 * o.count) / Math.max(...pair),
    perProcess: pair.map((s) => o.count / s),
  };
}

/** Starts one worker per args, waits until all are warm, starts them at once; their seconds. */
async function runTogether(list: WorkerArgs[]): Promise<number[]> {
  const workers = list.map((a) => {
    // The parent runs under tsx: its loader flags (process.execArgv) let the child load TypeScript too.
    const child = fork(workerPath, [JSON.stringify(a)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const next = (): Promise<WorkerMessage> =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`bench worker exited with ${code} before answering`));
        child.once('exit', onExit);
        child.once('message', (m) => {
          child.off('exit', onExit);
          resolve(m as WorkerMessage);
        });
      });
    return { child, next };
  });
  try {
    const expect = async (w: (typeof workers)[number], what: 'ready' | 'done'): Promise<WorkerMessage> => {
      const m = await w.next();
      if ('error' in m) throw new Error(`bench worker: ${m.error}`);
      if (!(what in m)) throw new Error(`bench worker answered ${JSON.stringify(m)}, expected ${what}`);
      return m;
    };
    await Promise.all(workers.map((w) => expect(w, 'ready')));
    const done = workers.map((w) => expect(w, 'done'));
    for (const w of workers) w.child.send('go');
    return (await Promise.all(done)).map((m) => ('seconds' in m ? m.seconds : NaN));
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill();
  }
}
