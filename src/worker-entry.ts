/**
 * Where a worker thread's code is: the built .js beside the caller (dist/), or, running from source
 * (tsx, vitest), the .ts one. Node 20 applies no module hooks to a worker's entry (neither an
 * inherited tsx loader nor `execArgv: ['--import', 'tsx']` works: "Unknown file extension .ts"), so
 * the source is loaded through tsx's tsImport from a small bootstrap instead.
 *
 *   const { source, evaluate } = workerEntry(new URL('./ocr-worker.js', import.meta.url));
 *   new Worker(source, { eval: evaluate, … });
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `built`: the worker's .js URL next to the calling module; its .ts twin is used when that file is not there. */
export function workerEntry(built: URL): { source: URL | string; evaluate: boolean } {
  if (existsSync(fileURLToPath(built))) return { source: built, evaluate: false };
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL(built.href.replace(/\.js$/, '.ts')).href;
  return { source: `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`, evaluate: true };
}
