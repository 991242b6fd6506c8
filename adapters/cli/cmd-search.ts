/**
 * `referent search`. As in chat, a search that reaches a person collection is a person query,
 * recorded in the audit log (as `cli:<login>`) for each such collection before anything is read. A
 * photo searched against person collections with faces on is searched by face too
 * (src/search/face-search.ts): the face runtime is made for that search alone (its models load at
 * the photo and are let go before the command ends), and the audit entry says `(faces compared)`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';
import { openReferent, type Referent } from '../../src/open.js';
import { faceCollectionsOf, type FaceSearchDeps } from '../../src/search/face-search.js';
import { checkRequest, resolveCollections, searchItems, type SearchHit, type SearchRequest } from '../../src/search/search.js';
import { hitJson } from '../hit-json.js';
import type { CliValues } from './main.js';
import { createProgressBar } from './progress-bar.js';
import { describeOpen } from './report.js';

/** The face runtime a search uses and then closes (FaceRuntime). */
export type SearchFaceRuntime = FaceSearchDeps['runtime'] & { close(): Promise<void> };

export interface SearchCommandOptions {
  /** Makes the face runtime when a search needs one (default: a FaceRuntime); tests give one of fixed faces. */
  faceRuntime?: () => SearchFaceRuntime;
}

export async function runSearch(args: string[], values: CliValues, loadConfig: () => Config, options: SearchCommandOptions = {}): Promise<number> {
  const text = args.join(' ').trim();
  if ((values.image?.length ?? 0) > 1) throw new ReferentError(ErrorCode.UsageInvalid, 'search takes one --image.');
  const imagePath = values.image?.[0];
  if (!text && !imagePath) throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent search "<text>" [--image PATH] [--collection NAME] [--limit N] [--no-refine] [--json]');
  const limit = values.limit === undefined ? 10 : Number(values.limit);
  const config = loadConfig();
  const image = imagePath ? await readQueryImage(imagePath, config.maxImageBytes) : undefined;
  const referent = await openReferent(config, { progress: createProgressBar() });
  let runtime: SearchFaceRuntime | null = null;
  try {
    if (!values.json) describeOpen(referent);
    const collectionIds = values.collection ? await resolveCollections(referent.catalog, values.collection) : undefined;
    const request: SearchRequest = { ...(text ? { text } : {}), ...(image ? { image } : {}), ...(collectionIds ? { collectionIds } : {}), limit, ...(values['no-refine'] ? { refine: false } : {}) };
    checkRequest(request, config);
    // Faces only for a photo and only where some collection searched has them on: else nothing loads.
    const faces = image ? await faceCollectionsOf(referent.catalog, collectionIds) : new Set<number>();
    await auditPersonSearch(referent.catalog, collectionIds, faces, text, imagePath);
    if (faces.size > 0) runtime = (options.faceRuntime ?? (() => new FaceRuntime()))();
    const hits = await searchItems(runtime ? { ...referent, faces: { runtime } } : referent, request, config);
    const json = () => JSON.stringify({ hits: hits.map((h) => hitJson(h, { ...referent.media.paths(h.item.mediaKey) })) });
    process.stdout.write(values.json ? `${json()}\n` : formatTable(referent, hits));
  } finally {
    // The face worker ends here, so the process can exit.
    await runtime?.close();
    await referent.shutdown();
  }
  return 0;
}

/**
 * Recorded as the chat records a person query: who, each person collection searched (all of them
 * without --collection), what was asked; `(faces compared)` where the photo's faces are compared.
 */
async function auditPersonSearch(catalog: Catalog, searched: ReadonlySet<number> | undefined, faces: ReadonlySet<number>, text: string, imagePath: string | undefined): Promise<void> {
  const query = ['search', ...(text ? [JSON.stringify(text)] : []), ...(imagePath ? [`--image ${path.basename(imagePath)}`] : [])].join(' ');
  for (const c of await catalog.listCollections()) {
    if (c.kind !== 'person' || (searched && !searched.has(c.id))) continue;
    await catalog.addAudit({ user: `cli:${os.userInfo().username}`, platform: 'cli', scope: 'cli', collectionId: c.id, query: faces.has(c.id) ? `${query} (faces compared)` : query });
  }
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
