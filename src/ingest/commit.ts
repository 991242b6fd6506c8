/**
 * The last stage of ingest: one encoded batch into the stores. Media the worker threads did not
 * store already (prepare-image.ts) are stored together (libvips makes them on libuv's thread pool
 * while the encoder runs the next batch),
 * then each item gets its own catalogue transaction (item, caption, vector, index log), in order, and
 * is reported only once that transaction has committed; then the index follows the log.
 */
import type { Collection, TextEmbedding } from '../catalog/catalog.js';
import { ErrorCode, isReferentError } from '../errors.js';
import type { StoredMedia } from '../media/media-store.js';
import type { Encoded } from './encode-isolated.js';
import type { IngestDeps } from './ingest.js';
import type { PreparedImage } from './prepare-image.js';
import type { IngestSource } from './sources.js';

/** A long ingest snapshots the index this often (log entries), so a crash replays little. */
const SNAPSHOT_EVERY = 20_000;

/** A prepared image that is new to its collection. */
export interface Encodable {
  source: IngestSource;
  prepared: PreparedImage;
  collection: Collection;
  /** Its duplicate key in this run (collection id and content hash). */
  key: string;
}

export interface Committable extends Encodable {
  encoded: Encoded;
  caption: TextEmbedding | null;
}

export interface CommitReport {
  added(item: Committable, itemId: number): void;
  failed(item: Committable, err: unknown): void;
  /** After the item is committed or has failed. */
  done(item: Committable): void;
}

/** A full disk stops the ingest (thrown); any other problem fails its item alone. */
export async function commitBatch(deps: IngestDeps, batch: readonly Committable[], report: CommitReport): Promise<void> {
  const media = await Promise.all(
    batch.map((item) =>
      'error' in item.encoded ? undefined : (item.prepared.stored ? Promise.resolve(item.prepared.stored) : deps.media.put(item.prepared.bytes!)).then((stored): { stored: StoredMedia } => ({ stored }), (error: unknown) => ({ error })),
    ),
  );
  for (const [i, item] of batch.entries()) {
    try {
      const stored = media[i];
      if ('error' in item.encoded) throw item.encoded.error;
      if (!stored || 'error' in stored) throw stored?.error;
      const { source, prepared, collection } = item;
      const added = await deps.catalog.addItem(
        {
          collectionId: collection.id,
          hash: prepared.hash,
          mediaKey: stored.stored.key,
          width: stored.stored.width,
          height: stored.stored.height,
          caption: source.caption ?? null,
          entityLabel: source.entity ?? null,
          source: source.postedBy ?? { platform: 'cli', ref: source.origin },
        },
        { modelId: deps.encoder.modelId, data: item.encoded.vector },
        item.caption,
      );
      report.added(item, added.id);
    } catch (err) {
      if (isReferentError(err, ErrorCode.DiskFull)) throw err;
      report.failed(item, err);
    } finally {
      report.done(item);
    }
  }
  await deps.index.catchUp();
  await deps.index.saveIfBehind(SNAPSHOT_EVERY);
}
