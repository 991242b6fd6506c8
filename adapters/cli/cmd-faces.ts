/**
 * `referent faces [on|off <collection>]` and `referent index faces`: face recognition per person
 * collection. Switching is for whoever runs the CLI on the server (as `enable`), and touches only the
 * catalogue: a running server finds the faces of a collection switched on in the background
 * (src/faces/face-queue.ts); `index faces` finds them now, in the foreground.
 */
import readline from 'node:readline/promises';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { FaceQueue } from '../../src/faces/face-queue.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';
import { switchFacesOff } from '../../src/faces/faces-off.js';
import { runUnknownFaces } from './cmd-faces-unknown.js';
import { openStores } from '../../src/open.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';

const USAGE =
  'Usage: referent faces [--json] | faces on <collection> | faces off <collection> [--yes] | faces unknown [<collection>] [--json] | faces name <group> <label> [--collection <name>]';

export async function runFaces(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  if (args[0] === 'unknown' || args[0] === 'name') return runUnknownFaces(args, values, loadConfig);
  const [sub, name, ...rest] = args;
  if (rest.length > 0 || (sub === undefined) !== (name === undefined) || (sub !== undefined && sub !== 'on' && sub !== 'off')) {
    throw new ReferentError(ErrorCode.UsageInvalid, USAGE);
  }
  const stores = await openStores(loadConfig());
  try {
    if (sub === undefined) return await listFaces(stores.catalog, values.json === true);
    const collection = await stores.catalog.findCollection(name!);
    if (!collection) throw new ReferentError(ErrorCode.NotFound, `There is no collection named "${name}" (see \`referent collections\`).`);
    if (sub === 'on') {
      await stores.catalog.setFacesEnabled(collection.id, true);
      const { pending } = await stores.catalog.countFaces(collection.id);
      process.stdout.write(
        `Faces are on for ${collection.name}: ${plural(pending, 'image')} to process. A running server finds them in the background; \`referent index faces\` does it now.\n`,
      );
      return 0;
    }
    const { processed, faces } = await stores.catalog.countFaces(collection.id);
    const what = `${plural(faces, 'face record')} of ${plural(processed, 'image')}`;
    if (processed > 0 && !values.yes && !(await confirm(`Switch faces off for ${collection.name} and delete its ${what}? This cannot be undone. [y/N] `))) {
      process.stdout.write(`Faces stay on for ${collection.name}.${process.stdin.isTTY ? '' : ' (Not a terminal: pass --yes to switch them off without asking.)'}\n`);
      return 1;
    }
    await switchFacesOff(stores.catalog, collection.id);
    process.stdout.write(`Faces are off for ${collection.name}: deleted its ${what}.\n`);
    return 0;
  } finally {
    await stores.close();
  }
}

async function listFaces(catalog: Catalog, json: boolean): Promise<number> {
  const people = (await catalog.listCollections()).filter((c) => c.kind === 'person');
  const rows = await Promise.all(people.map(async (c) => ({ name: c.name, on: await catalog.facesEnabled(c.id), ...(await catalog.countFaces(c.id)) })));
  if (json) process.stdout.write(`${JSON.stringify({ collections: rows }, null, 2)}\n`);
  else if (rows.length === 0) process.stdout.write('No person collections: faces are for collections of kind person (`referent collections create NAME --kind person`).\n');
  else for (const r of rows) process.stdout.write(`${r.name}: faces ${r.on ? `on, ${facesFigures(r)}` : 'off'}\n`);
  return 0;
}

const facesFigures = (c: { processed: number; faces: number; pending: number }) => `${plural(c.faces, 'face')} on ${plural(c.processed, 'image')}, ${c.pending} waiting`;

/** The faces line of `referent index status`. */
export function facesLine(c: { processed: number; faces: number; pending: number }, collectionsOn: number): string {
  return `faces         ${collectionsOn === 0 ? 'off in every collection' : `on in ${plural(collectionsOn, 'collection')}: ${facesFigures(c)}`}`;
}

/** `referent index faces`: finds the faces on every image waiting for them, in the foreground with a progress bar. */
export async function runFaceIndex(config: Config): Promise<number> {
  const stores = await openStores(config);
  const runtime = new FaceRuntime();
  // An engine that cannot start is the command's error (below), not a log line.
  const queue = new FaceQueue(stores, runtime, { log: (l) => void process.stderr.write(`${l}\n`), logEngineError: false });
  try {
    if ((await stores.catalog.faceCollectionIds()).length === 0) {
      process.stdout.write('Faces are off in every collection: `referent faces on <collection>` switches them on for a person collection.\n');
      return 0;
    }
    const started = Date.now();
    const summary = await queue.drain(createProgressBar());
    if (queue.engineError) throw new ReferentError(ErrorCode.ModelInvalid, `The face engine could not start: ${queue.engineError}`);
    const seconds = (Date.now() - started) / 1000;
    const rate = summary.processed ? ` (${((seconds * 1000) / summary.processed).toFixed(0)} ms per image)` : '';
    const counts = await stores.catalog.countFaces();
    process.stdout.write(
      `Processed ${plural(summary.processed, 'image')} in ${seconds.toFixed(1)} s${rate}: ${plural(summary.faces, 'face')} found, ${summary.failed} unreadable.\n${facesLine(counts, (await stores.catalog.faceCollectionIds()).length)}\n`,
    );
    return 0;
  } finally {
    await queue.close();
    await runtime.close();
    await stores.close();
  }
}

/** Asks on the terminal; anything but y/yes (or no terminal at all) is no. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}
