/** `referent add | describe | show | forget`: teaching Referent about an entity without chat. */
import path from 'node:path';
import readline from 'node:readline/promises';
import type { Config } from '../../src/config.js';
import { describe, forget, resolveEntity, show } from '../../src/entities/entities.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { taughtAnything, teach, teachSummary } from '../../src/entities/teach.js';
import { openReferent, type Referent } from '../../src/open.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';
import { describeOpen } from './report.js';

async function withReferent<T>(config: Config, quiet: boolean, fn: (r: Referent) => Promise<T>): Promise<T> {
  const referent = await openReferent(config, { progress: createProgressBar() });
  try {
    if (!quiet) describeOpen(referent);
    return await fn(referent);
  } finally {
    await referent.shutdown();
  }
}

function oneCollection(values: CliValues): string | undefined {
  if ((values.collection?.length ?? 0) > 1) throw new ReferentError(ErrorCode.UsageInvalid, 'Give one --collection.');
  return values.collection?.[0];
}

export async function runAdd(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [label, ...rest] = args;
  const images = values.image ?? [];
  if (!label || rest.length > 0 || (images.length === 0 && !values.text)) {
    throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent add <label> --image PATH [--image PATH]... [--text "description"] [--collection NAME]');
  }
  const config = loadConfig();
  const collection = oneCollection(values) ?? 'default';
  return withReferent(config, false, async (referent) => {
    if (images.length === 0) {
      const entity = await describe(referent, { label, text: values.text!, collection }, config);
      process.stdout.write(`Described ${entity.label}.\n`);
      return 0;
    }
    const sources = images.map((p) => ({ path: path.resolve(p), origin: p }));
    const result = await teach(referent, { label, collection, sources, ...(values.text ? { text: values.text } : {}) }, config);
    for (const f of result.failed) process.stderr.write(`  failed ${f.origin}: ${f.reason} [${f.code}]\n`);
    const lines = teachSummary(label, collection, { ...result, failed: [] });
    if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
    // Every photo already another entity's, and nothing else taught: that is not a success.
    return result.failed.length > 0 ? 3 : taughtAnything(result) ? 0 : 4;
  });
}

export async function runDescribe(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [label, ...words] = args;
  const text = words.join(' ').trim();
  if (!label || !text) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent describe <label> "<description>" [--collection NAME]');
  const config = loadConfig();
  return withReferent(config, false, async (referent) => {
    const collection = oneCollection(values);
    const entity = await describe(referent, { label, text, ...(collection ? { collection } : {}) }, config);
    process.stdout.write(`Described ${entity.label}.\n`);
    return 0;
  });
}

export async function runShow(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [label, ...rest] = args;
  if (!label || rest.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent show <label> [--collection NAME] [--json]');
  return withReferent(loadConfig(), Boolean(values.json), async (referent) => {
    const view = await show(referent, label, oneCollection(values));
    if (values.json) {
      const items = view.items.map((i) => ({ itemId: i.id, caption: i.caption, media: { id: i.mediaKey, ...referent.media.paths(i.mediaKey) } }));
      process.stdout.write(`${JSON.stringify({ entity: view.entity, items, descriptions: view.descriptions, details: view.details, photoWeights: view.photoWeights, labels: view.labels })}\n`);
      return 0;
    }
    const lines = [`${view.entity.label} (${view.entity.kind}): ${view.items.length} photo${view.items.length === 1 ? '' : 's'}, ${view.descriptions.length} description${view.descriptions.length === 1 ? '' : 's'}`];
    for (const i of view.items) {
      const w = view.photoWeights.find((p) => p.itemId === i.id)?.weight;
      lines.push(`  photo #${i.id}${w === undefined ? '' : `  weight ${w.toFixed(2)}`}  ${referent.media.paths(i.mediaKey).original}`);
    }
    for (const d of view.descriptions) lines.push(`  "${d.text}"  (${d.source}, weight ${d.weight.toFixed(2)})`);
    if (view.details.length > 0) lines.push(`  details: ${view.details.join(' · ')}`);
    for (const l of view.labels) lines.push(`  label on #${l.itemId} reads: ${l.lines.map((t) => `"${t}"`).join(', ')}${l.identifiers.length ? ` (identifiers ${l.identifiers.join(', ')})` : ''}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
}

export async function runForget(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [label, ...rest] = args;
  if (!label || rest.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent forget <label> [--collection NAME] [--yes]');
  return withReferent(loadConfig(), false, async (referent) => {
    const collection = oneCollection(values);
    const entity = await resolveEntity(referent.catalog, label, collection);
    const photos = (await referent.catalog.entityItems(entity.id)).length;
    const what = `${entity.label} and its ${photos} photo${photos === 1 ? '' : 's'}, with its descriptions and verdicts`;
    if (!values.yes && !(await confirm(`Forget ${what}? This cannot be undone. [y/N] `))) {
      process.stdout.write(`Kept ${entity.label}.${process.stdin.isTTY ? '' : ' (Not a terminal: pass --yes to forget without asking.)'}\n`);
      return 1;
    }
    const { items } = await forget(referent, entity.label, collection);
    process.stdout.write(`Forgot ${entity.label}: ${items} photo${items === 1 ? '' : 's'}, its descriptions and verdicts.\n`);
    return 0;
  });
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
