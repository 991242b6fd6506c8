/**
 * Switching faces off for a collection, as every caller must: the catalogue deletes the collection's
 * face records, then checkpoints, as after a forget, so no copy of them lingers in the engine's own
 * files (SQLite's deleted pages are zeroed in its write-ahead log, and the database file keeps the old
 * ones until the log is folded back; test/reliability/leaks-faces.ts found exactly that).
 */
import type { Catalog } from '../catalog/catalog.js';

export async function switchFacesOff(catalog: Pick<Catalog, 'setFacesEnabled' | 'checkpoint'>, collectionId: number): Promise<boolean> {
  const done = await catalog.setFacesEnabled(collectionId, false);
  await catalog.checkpoint();
  return done;
}
