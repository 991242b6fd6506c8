/**
 * Keeping the media folder in step with the catalogue after crashes. Two kinds of leftovers:
 * - files of forgotten images: forgetting queues their keys in the catalogue in the same
 *   transaction (MediaCatalog.mediaTrash), and the files are deleted right after it commits, and
 *   again at every open, so a crash in between only delays the deletion;
 * - files of images that were never committed: `put` writes the files before the catalogue
 *   transaction, so a crash in between leaves them with no item. Nothing points at them and a new
 *   upload of the same bytes reuses them; the sweep deletes them once they are older than a grace
 *   period, which keeps it clear of a `put` another process is about to commit.
 */
import type { MediaCatalog } from '../catalog/catalog.js';
import { isReferentError } from '../errors.js';
import type { MediaStore } from './media-store.js';

/** Deletes the files of every queued key; returns how many keys left the queue. */
export async function emptyMediaTrash(catalog: MediaCatalog, media: MediaStore): Promise<number> {
  let done = 0;
  for (;;) {
    const keys = await catalog.mediaTrash(256);
    if (keys.length === 0) return done;
    for (const key of keys) {
      // Asked again right before deleting: the same photo may have been added back meanwhile.
      if (await catalog.isMediaLive(key)) continue;
      // A key that is not a media key names no file: there is nothing to delete.
      await media.remove(key).catch((err: unknown) => {
        if (!isReferentError(err)) throw err;
      });
    }
    await catalog.mediaTrashed(keys);
    done += keys.length;
  }
}

/** An hour: far longer than any `put` waits for its catalogue transaction. */
export const SWEEP_GRACE_MS = 60 * 60 * 1000;

/**
 * Deletes media files no live item uses (and stale temporary files) older than `olderThanMs`.
 * Returns how many files went. With no other process writing, `olderThanMs: 0` leaves exactly the
 * live items' files.
 */
export function sweepOrphanMedia(catalog: MediaCatalog, media: MediaStore, options: { olderThanMs: number }): Promise<{ removed: number }> {
  return media.sweep((key) => catalog.isMediaLive(key), options);
}
