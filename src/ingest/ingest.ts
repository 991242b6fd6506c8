/**
 * Ingest: images (with optional captions and entity labels) into the catalogue, media store and index.
 * Order per item: media on disk → one SQLite transaction (item, caption, vector, index log) → index.
 * An item is reported as added only after its transaction committed, so whatever was reported
 * survives a crash. Re-running skips what is already there (content hash per collection).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Catalog, Collection } from '../catalog/catalog.js';
import type { Encoder } from '../encoder/encoder.js';
import { ErrorCode, isReferentError, ReferentError } from '../errors.js';
import type { ItemIndex } from '../index/item-index.js';
import type { MediaStore } from '../media/media-store.js';
import { embedTexts } from '../references/embed-text.js';
import { encodeIsolated } from './encode-isolated.js';
import { silentProgress, type Progress } from '../progress.js';
import type { IngestSource, SourceList } from './sources.js';

/** A long ingest snapshots the index this often (log entries), so a crash replays little. */
const SNAPSHOT_EVERY = 20_000;

export interface IngestDeps {
  catalog: Catalog;
  media: MediaStore;
  encoder: Encoder;
  index: ItemIndex;
}

export interface IngestOptions {
  /** Collection for sources that name none. */
  collection: string;
  batchSize: number;
  maxImageBytes: number;
  maxTextChars: number;
  progress?: Progress;
  /** Called after each item is committed (or skipped, or failed). */
  onEvent?: (event: IngestEvent) => void;
  /** Stops between batches; what was committed stays. */
  signal?: AbortSignal;
}

export type IngestEvent =
  | { event: 'added'; itemId: number; origin: string; collection: string }
  /** itemId: the item already stored; null for a duplicate within this run (its twin is being added). */
  | { event: 'skipped'; itemId: number | null; origin: string; reason: string }
  | { event: 'failed'; origin: string; code: string; reason: string };

export interface IngestSummary {
  added: number;
  skipped: number;
  failed: Array<{ origin: string; code: string; reason: string }>;
  interrupted: boolean;
}

interface Prepared {
  source: IngestSource;
  bytes: Uint8Array;
  collection: Collection;
  hash: string;
}

export async function ingest(deps: IngestDeps, list: SourceList, options: IngestOptions): Promise<IngestSummary> {
  const progress = options.progress ?? silentProgress;
  const summary: IngestSummary = { added: 0, skipped: 0, failed: [], interrupted: false };
  const emit = (event: IngestEvent) => {
    if (event.event === 'failed') summary.failed.push({ origin: event.origin, code: event.code, reason: event.reason });
    options.onEvent?.(event);
  };
  for (const p of list.problems) emit({ event: 'failed', origin: p.origin, code: ErrorCode.ManifestInvalid, reason: p.reason });

  progress.start('Ingesting', list.sources.length, 'images');
  try {
    for (let start = 0; start < list.sources.length; start += options.batchSize) {
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const batch = list.sources.slice(start, start + options.batchSize);
      await ingestBatch(deps, batch, options, summary, emit);
      progress.tick(batch.length);
    }
  } finally {
    progress.stop();
  }
  return summary;
}

async function ingestBatch(
  deps: IngestDeps,
  batch: IngestSource[],
  options: IngestOptions,
  summary: IngestSummary,
  emit: (e: IngestEvent) => void,
): Promise<void> {
  const seen = new Set<string>();
  const ready: Prepared[] = [];
  for (const source of batch) {
    try {
      const prepared = await prepare(deps, source, options);
      const dupKey = `${prepared.collection.id}:${prepared.hash}`;
      const existing = await deps.catalog.findLiveItemByHash(prepared.collection.id, prepared.hash);
      if (existing || seen.has(dupKey)) {
        summary.skipped++;
        emit({ event: 'skipped', itemId: existing?.id ?? null, origin: source.origin, reason: existing ? 'already in the collection' : 'duplicate in this run' });
        continue;
      }
      seen.add(dupKey);
      ready.push(prepared);
    } catch (err) {
      emit(failure(source.origin, err));
    }
  }
  const encoded = await encodeIsolated(deps.encoder, ready.map((p) => p.bytes));
  // Captions describe their image (and, with an entity, join its reference): embed them with their details.
  const captioned = ready.filter((p) => p.source.caption?.trim());
  const captionVectors = new Map((await embedTexts(deps.encoder, captioned.map((p) => p.source.caption!))).map((e, i) => [captioned[i]!, e]));
  for (const [i, p] of ready.entries()) {
    const result = encoded[i]!;
    if ('error' in result) {
      emit(failure(p.source.origin, result.error));
      continue;
    }
    const vector = result.vector;
    try {
      const stored = await deps.media.put(p.bytes);
      const item = await deps.catalog.addItem(
        {
          collectionId: p.collection.id,
          hash: p.hash,
          mediaKey: stored.key,
          width: stored.width,
          height: stored.height,
          caption: p.source.caption ?? null,
          entityLabel: p.source.entity ?? null,
          source: p.source.postedBy ?? { platform: 'cli', ref: p.source.origin },
        },
        { modelId: deps.encoder.modelId, data: vector },
        captionVectors.get(p) ?? null,
      );
      summary.added++;
      emit({ event: 'added', itemId: item.id, origin: p.source.origin, collection: p.collection.name });
    } catch (err) {
      if (isReferentError(err, ErrorCode.DiskFull)) throw err;
      emit(failure(p.source.origin, err));
    }
  }
  await deps.index.catchUp();
  await deps.index.saveIfBehind(SNAPSHOT_EVERY);
}

/** Reads and checks one source; throws a ReferentError describing why it cannot be ingested. */
async function prepare(deps: IngestDeps, source: IngestSource, options: IngestOptions): Promise<Prepared> {
  for (const [field, text] of [['caption', source.caption], ['entity', source.entity], ['collection', source.collection]] as const) {
    if (text !== undefined && text.length > options.maxTextChars) {
      throw new ReferentError(ErrorCode.TextTooLong, `The ${field} is ${text.length} characters; the limit is ${options.maxTextChars}.`);
    }
  }
  const stat = source.bytes ? null : await fs.stat(source.path).catch(() => null);
  const size = source.bytes ? source.bytes.length : stat?.isFile() ? stat.size : undefined;
  if (size === undefined) throw new ReferentError(ErrorCode.NotFound, `No image file at ${source.path}.`);
  if (size > options.maxImageBytes) {
    throw new ReferentError(ErrorCode.ImageTooLarge, `The image is ${size} bytes; the limit is ${options.maxImageBytes}.`);
  }
  const bytes = source.bytes ?? (await fs.readFile(source.path));
  const collection = await deps.catalog.ensureCollection(source.collection ?? options.collection);
  return { source, bytes, collection, hash: createHash('sha256').update(bytes).digest('hex') };
}

function failure(origin: string, err: unknown): IngestEvent {
  if (isReferentError(err)) return { event: 'failed', origin, code: err.code, reason: err.message };
  return { event: 'failed', origin, code: 'UNEXPECTED', reason: err instanceof Error ? err.message : String(err) };
}
