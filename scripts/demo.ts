/**
 * `npm run demo`: Referent fully offline. Draws a synthetic gallery of parts and people (the first
 * time, or with --fresh) into its own data folder (demo-data/), teaches it the gallery's entities
 * and their descriptions, and starts the web chat on the demo encoder, which only understands
 * colours. Nothing is downloaded.
 *
 *   npm run demo [-- --fresh] [--port 3000] [--data demo-data] [--no-serve]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../adapters/env.js';
import { serve } from '../adapters/serve.js';
import { buildDemo, DEMO_MODEL } from './demo/build.js';

export { buildDemo, DEMO_MODEL };

const root = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fresh: { type: 'boolean', default: false },
      port: { type: 'string' },
      data: { type: 'string', default: path.join(root, 'demo-data') },
      'no-serve': { type: 'boolean', default: false },
    },
  });
  const dataDir = path.resolve(values.data);
  const config = loadConfig({ REFERENT_DATA_DIR: path.join(dataDir, 'data'), REFERENT_MODEL: DEMO_MODEL, REFERENT_OFFLINE: '1', ...(values.port ? { PORT: values.port } : {}) });
  if (values.fresh) fs.rmSync(dataDir, { recursive: true, force: true });
  // Written only once the build finished: an interrupted build starts over.
  const ready = path.join(dataDir, 'ready.json');
  let examples: string[];
  if (fs.existsSync(ready)) {
    examples = (JSON.parse(fs.readFileSync(ready, 'utf8')) as { examples: string[] }).examples;
    process.stdout.write(`Using the demo data in ${dataDir} (npm run demo -- --fresh starts over).\n`);
  } else {
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.stdout.write(`Drawing a demo gallery into ${dataDir}…\n`);
    examples = (await buildDemo(config, path.join(dataDir, 'gallery'), (line) => process.stdout.write(`${line}\n`))).exampleQueries;
    fs.writeFileSync(ready, `${JSON.stringify({ examples }, null, 2)}\n`);
  }
  if (values['no-serve']) return;
  await serve(config, {
    banner:
      `  Try: ${examples.map((q) => `"${q}"`).join(', ')}, or "show P-20417".\n` +
      '  One unlabelled photo of each catalogued part has its number on a tag: once the labels are read (a few seconds), "P-55210" finds it.',
  });
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main().catch((err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
