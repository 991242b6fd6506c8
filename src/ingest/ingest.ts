/**
 * Ingest: images (with optional captions and entity labels) into the catalogue, media store and index,
 * as a pipeline that keeps the encoder busy:
 *
 *   sources → preprocessing (worker threads: read, hash, decode, resize; at most `readAhead` ahead)
 *           → the encoder, on whatever is ready in source order, up to a batch (never waiting for a full one)
 *           → commit, one batch at a time while the encoder runs the next: per item, media on disk →
 *             one catalogue transaction (item, caption, vector, index log) → index.
 *
 * An item is reported as added only after its transaction committed, so whatever was reported survives
 * a crash. Re-running skips what is already there (content hash per collection). Aborting stops taking
 * new work: the batch being committed finishes, what was prepared or encoded but not committed is
 * dropped (never half-written), and a re-run does the rest.
 */
import type { Catalog, Collection } from '../catalog/catalog.js';
import { encodesPixels, type Encoder } from '../encoder/encoder.js';
import { ErrorCode, isReferentError, ReferentError } from '../errors.js';
import type { ImageIndex } from '../index/image-index.js';
import type { MediaStore } from '../media/media-store.js';
import { silentProgress, type Progress } from '../progress.js';
import { embedTexts } from '../references/embed-text.js';
import { commitBatch, type Encodable } from './commit.js';
import { encodeIsolated, runIsolated, type Encoded } from './encode-isolated.js';
import type { PreparedImage, PrepareSpec } from './prepare-image.js';
import { mainThreadPreprocessor, startWorkerPool, type Preprocessor } from './preprocessor.js';
import { ReadAhead, type Settled } from './read-ahead.js';
import type { IngestSource, SourceList } from './sources.js';

export interface IngestDeps {
  catalog: Catalog;
  media: MediaStore;
  encoder: Encoder;
  index: ImageIndex;
}

export interface IngestOptions {
  /** Collection for sources that name none. */
  collection: string;
  /** Most images per encoder call. */
  batchSize: number;
  maxImageBytes: number;
  maxTextChars: number;
  /** Worker threads preparing images while the encoder runs; 0 or absent: the main thread (fine for a few images). */
  workers?: number;
  /** Most images read and prepared ahead of the encoder (default 2 × batchSize + workers): bounds memory. */
  readAhead?: number;
  progress?: Progress;
  /** Called once per source, when it is committed (or skipped, or failed); and for each manifest problem. */
  onEvent?: (event: IngestEvent) => void;
  /** Stops taking work; what was committed stays, nothing is half-written. */
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
  /** How the pipeline ran (absent when there was nothing to ingest). */
  pipeline?: PipelineStats;
}

export interface PipelineStats {
  /** Worker threads preparing images (0: the main thread). */
  workers: number;
  /** The bound on images prepared ahead of the encoder, and the most there ever were. */
  readAhead: number;
  peakAhead: number;
  /** Batches taken for the encoder, and the largest (never above batchSize). */
  batches: number;
  largestBatch: number;
}

/** The bound on images prepared ahead of the encoder when none is given. */
export function defaultReadAhead(batchSize: number, workers: number): number {
  return 2 * batchSize + workers;
}

export async function ingest(deps: IngestDeps, list: SourceList, options: IngestOptions): Promise<IngestSummary> {
  const progress = options.progress ?? silentProgress;
  const summary: IngestSummary = { added: 0, skipped: 0, failed: [], interrupted: false };
  const emit = (event: IngestEvent) => {
    if (event.event === 'failed') summary.failed.push({ origin: event.origin, code: event.code, reason: event.reason });
    options.onEvent?.(event);
  };
  for (const p of list.problems) emit({ event: 'failed', origin: p.origin, code: ErrorCode.ManifestInvalid, reason: p.reason });
  if (list.sources.length === 0) return summary;

  const workers = Math.max(0, options.workers ?? 0);
  const spec: PrepareSpec = {
    maxImageBytes: options.maxImageBytes,
    ...(encodesPixels(deps.encoder) ? { pixels: deps.encoder.pixelInput } : {}),
    // With worker threads the media are stored there too, off the main thread.
    ...(workers > 0 && deps.media.spec ? { media: deps.media.spec } : {}),
  };
  const preprocessor = workers > 0 ? await startWorkerPool(workers, spec) : mainThreadPreprocessor(spec);
  let queue: ReadAhead<IngestSource, PreparedImage> | undefined;
  // Media the workers stored anew, until their item commits: what is left at the end was
  // prepared and then dropped (Ctrl-C, a failed encode, a full disk) and is removed.
  const uncommitted = new Set<string>();
  const run = new Run(deps, options, summary, (event) => {
    emit(event);
    progress.tick(1);
  }, (hash) => uncommitted.delete(hash));
  const prepare = async (source: IngestSource) => {
    const prepared = await prepareSource(source, options, preprocessor);
    if (prepared.storedNew) uncommitted.add(prepared.hash);
    return prepared;
  };
  try {
    queue = new ReadAhead(list.sources, prepare, options.readAhead ?? defaultReadAhead(options.batchSize, workers));
    const stats: PipelineStats = { workers: preprocessor.threads, readAhead: queue.bound, peakAhead: 0, batches: 0, largestBatch: 0 };
    summary.pipeline = stats;
    progress.start('Ingesting', list.sources.length, 'images');
    try {
      for (;;) {
        if (options.signal?.aborted) break;
        const ready = await queue.take(options.batchSize);
        if (ready.length === 0) break;
        stats.batches++;
        stats.largestBatch = Math.max(stats.largestBatch, ready.length);
        await run.batch(ready);
      }
      await run.finish();
    } finally {
      stats.peakAhead = queue.peak;
      summary.interrupted = options.signal?.aborted === true && run.unfinished(list.sources.length);
      progress.stop();
    }
  } finally {
    // Work already handed to the workers finishes first: a worker is never ended in the middle of an image.
    await queue?.close();
    await preprocessor.close();
    await removeUnused(deps, uncommitted);
  }
  return summary;
}

/**
 * Removes the media of `keys` that no item uses, asked right before each deletion (as media-trash.ts
 * does). Best effort: what a failure here leaves, the server's sweep of unused media removes later.
 */
async function removeUnused(deps: IngestDeps, keys: ReadonlySet<string>): Promise<void> {
  for (const key of keys) {
    await deps.catalog.isMediaLive(key).then((live) => (live ? undefined : deps.media.remove(key))).catch(() => undefined);
  }
}

/** Checks what needs no file, then prepares the image (in a worker thread when there are any). */
async function prepareSource(source: IngestSource, options: IngestOptions, preprocessor: Preprocessor): Promise<PreparedImage> {
  for (const [field, text] of [['caption', source.caption], ['entity', source.entity], ['collection', source.collection]] as const) {
    if (text !== undefined && text.length > options.maxTextChars) {
      throw new ReferentError(ErrorCode.TextTooLong, `The ${field} is ${text.length} characters; the limit is ${options.maxTextChars}.`);
    }
  }
  return preprocessor.prepare(source.bytes ? { bytes: source.bytes } : { path: source.path });
}

/** One ingest's state between batches: duplicates in flight, collections, and the commit under way. */
class Run {
  /** collection id:hash of items encoded or being committed, so a twin later in the run is skipped. */
  private readonly pending = new Set<string>();
  private readonly collections = new Map<string, Promise<Collection>>();
  private committing: Promise<void> = Promise.resolve();
  /** Sources that have had their event. */
  private settled = 0;

  constructor(
    private readonly deps: IngestDeps,
    private readonly options: IngestOptions,
    private readonly summary: IngestSummary,
    private readonly report: (event: IngestEvent) => void,
    private readonly committed: (hash: string) => void,
  ) {}

  /** Sorts out failures and duplicates, encodes the rest, then starts their commit once the previous one is done. */
  async batch(ready: ReadonlyArray<Settled<IngestSource, PreparedImage>>): Promise<void> {
    const todo: Encodable[] = [];
    for (const outcome of ready) {
      if ('error' in outcome) {
        // The media are stored while preparing: a full disk there stops the ingest as it does in a commit.
        if (isReferentError(outcome.error, ErrorCode.DiskFull)) throw outcome.error;
        this.fail(outcome.source, outcome.error);
        continue;
      }
      const { source, value: prepared } = outcome;
      try {
        const collection = await this.collection(source.collection ?? this.options.collection);
        const key = `${collection.id}:${prepared.hash}`;
        const existing = this.pending.has(key) ? null : await this.deps.catalog.findLiveItemByHash(collection.id, prepared.hash);
        if (this.pending.has(key) || existing) {
          this.summary.skipped++;
          this.event({ event: 'skipped', itemId: existing?.id ?? null, origin: source.origin, reason: existing ? 'already in the collection' : 'duplicate in this run' });
          continue;
        }
        this.pending.add(key);
        todo.push({ source, prepared, collection, key });
      } catch (err) {
        this.fail(source, err);
      }
    }
    const encoded = await this.encode(todo);
    const captions = await this.captions(todo);
    await this.committing;
    if (this.options.signal?.aborted) return; // encoded but not committed: dropped, a re-run does them
    const work = todo.map((item, i) => ({ ...item, encoded: encoded[i]!, caption: captions.get(item) ?? null }));
    this.committing = commitBatch(this.deps, work, {
      added: (item, itemId) => {
        this.summary.added++;
        this.committed(item.prepared.hash);
        this.event({ event: 'added', itemId, origin: item.source.origin, collection: item.collection.name });
      },
      failed: (item, err) => this.fail(item.source, err),
      done: (item) => this.pending.delete(item.key),
    });
    // Awaited by the next batch (or finish); until then a failure must not count as unhandled.
    this.committing.catch(() => undefined);
  }

  /** Waits for the last commit; its errors (a full disk) surface here. */
  async finish(): Promise<void> {
    await this.committing;
  }

  /** True when some source has had no event (what an abort left for the re-run). */
  unfinished(total: number): boolean {
    return this.settled < total;
  }

  private async encode(todo: readonly Encodable[]): Promise<Encoded[]> {
    const { encoder } = this.deps;
    if (encodesPixels(encoder) && todo.every((t) => t.prepared.tensor)) {
      return runIsolated(todo.map((t) => t.prepared.tensor!), (tensors) => encoder.encodePixels(tensors));
    }
    // Without a tensor the preparing step always returns the bytes (prepare-image.ts).
    return encodeIsolated(encoder, todo.map((t) => t.prepared.bytes!));
  }

  /** Captions describe their image (and, with an entity, join its reference): embedded with their details. */
  private async captions(todo: readonly Encodable[]) {
    const captioned = todo.filter((t) => t.source.caption?.trim());
    const vectors = await embedTexts(this.deps.encoder, captioned.map((t) => t.source.caption!));
    return new Map(vectors.map((v, i) => [captioned[i]!, v]));
  }

  private collection(name: string): Promise<Collection> {
    let found = this.collections.get(name);
    if (!found) {
      found = this.deps.catalog.ensureCollection(name);
      this.collections.set(name, found);
      found.catch(() => this.collections.delete(name));
    }
    return found;
  }

  private fail(source: IngestSource, err: unknown): void {
    this.event(failure(source.origin, err));
  }

  private event(event: IngestEvent): void {
    this.settled++;
    this.report(event);
  }
}

function failure(origin: string, err: unknown): IngestEvent {
  if (isReferentError(err)) return { event: 'failed', origin, code: err.code, reason: err.message };
  return { event: 'failed', origin, code: 'UNEXPECTED', reason: err instanceof Error ? err.message : String(err) };
}
