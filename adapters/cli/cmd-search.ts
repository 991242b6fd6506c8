import fs from 'node:fs/promises';
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { openReferent, type Referent } from '../../src/open.js';
import { searchItems, type SearchHit } from '../../src/search/search.js';
import { hitJson } from '../hit-json.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';
import { describeOpen } from './report.js';

export async function runSearch(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const text = args.join(' ').trim();
  if ((values.image?.length ?? 0) > 1) throw new ReferentError(ErrorCode.UsageInvalid, 'search takes one --image.');
  const imagePath = values.image?.[0];
  if (!text && !imagePath) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent search "<text>" [--image PATH] [--collection NAME] [--limit N] [--no-refine] [--json]');
  const limit = values.limit === undefined ? 10 : Number(values.limit);
  const config = loadConfig();
  const image = imagePath ? await readQueryImage(imagePath, config.maxImageBytes) : undefined;
  const referent = await openReferent(config, { progress: createProgressBar() });
  try {
    if (!values.json) describeOpen(referent);
    const hits = await searchItems(
      referent,
      { ...(text ? { text } : {}), ...(image ? { image } : {}), ...(values.collection ? { collections: values.collection } : {}), limit, ...(values['no-refine'] ? { refine: false } : {}) },
      config,
    );
    const json = () => JSON.stringify({ hits: hits.map((h) => hitJson(h, { ...referent.media.paths(h.item.mediaKey) })) });
    process.stdout.write(values.json ? `${json()}\n` : formatTable(referent, hits));
  } finally {
    await referent.shutdown();
  }
  return 0;
}

export async function readQueryImage(file: string, maxBytes: number): Promise<Buffer> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat?.isFile()) throw new ReferentError(ErrorCode.NotFound, `No image file at ${file}.`);
  if (stat.size > maxBytes) throw new ReferentError(ErrorCode.ImageTooLarge, `The image is ${stat.size} bytes; the limit is ${maxBytes}.`);
  return fs.readFile(file);
}

function formatTable(referent: Referent, hits: SearchHit[]): string {
  if (hits.length === 0) return 'No images match. Add some with `referent ingest`.\n';
  const lines = hits.map((h, i) => {
    const label = h.item.entityLabel ? `[${h.item.entityLabel}] ` : '';
    const more = h.more.length > 0 ? ` (+${h.more.length} more of ${h.item.entityLabel})` : '';
    const why = h.why ? `\n      why: ${h.why.summary}` : '';
    return `${String(i + 1).padStart(3)}. ${h.score.toFixed(3)}  #${h.itemId}  ${label}${h.item.caption ?? ''}${more}\n      ${referent.media.paths(h.item.mediaKey).original}${why}`;
  });
  return `${lines.join('\n')}\n`;
}
