/**
 * Teaching an entity with photos: `add <label>: <description>` in chat and `referent add`. New photos
 * are ingested with the label; a photo already in the collection (people re-post photos all the
 * time) is linked to the label when nobody labelled it yet, and left where it is, named, when it
 * already shows another entity. The description is never lost: it travels as the caption of the new
 * photos, or, when none was new, is kept as a description of the entity.
 */
import type { Entity } from '../catalog/catalog.js';
import { ingest, type IngestOptions } from '../ingest/ingest.js';
import type { IngestSource } from '../ingest/sources.js';
import { describe, type EntityDeps } from './entities.js';

export interface TeachRequest {
  label: string;
  /** The collection the entity lives in (created as "other" when missing). */
  collection: string;
  /** Optional description: the caption of the new photos. */
  text?: string;
  author?: string;
  /** The photos; their entity and collection are set from the request. */
  sources: ReadonlyArray<Omit<IngestSource, 'entity' | 'collection' | 'caption'>>;
}

export interface TeachResult {
  /** The entity, once anything was taught (null when every photo belonged elsewhere and there was no text). */
  entity: Entity | null;
  added: number;
  /** Photos already stored, now linked to the label. */
  linked: number;
  /** Photos already stored and already showing this entity. */
  already: number;
  /** Photos already stored that show another entity (they stay there). */
  elsewhere: Array<{ itemId: number; label: string }>;
  /** The description was kept as its own text (no new photo carried it). */
  described: boolean;
  failed: Array<{ origin: string; code: string; reason: string }>;
}

export async function teach(deps: EntityDeps, req: TeachRequest, options: Omit<IngestOptions, 'collection' | 'onEvent'>): Promise<TeachResult> {
  const text = req.text?.trim() || undefined;
  const sources = req.sources.map((s) => ({ ...s, entity: req.label, collection: req.collection, ...(text ? { caption: text } : {}) }));
  const stored: number[] = [];
  const summary = await ingest(deps, { sources, problems: [] }, { ...options, collection: req.collection, onEvent: (e) => e.event === 'skipped' && e.itemId !== null && stored.push(e.itemId) });
  const result: TeachResult = { entity: null, added: summary.added, linked: 0, already: 0, elsewhere: [], described: false, failed: summary.failed };
  const collectionId = (await deps.catalog.findCollection(req.collection))?.id;
  result.entity = (await deps.catalog.findEntities(req.label)).find((e) => e.collectionId === collectionId) ?? null;
  // Made only when something is taught: a photo that shows another entity creates no empty namesake.
  const entity = async () => (result.entity ??= await deps.catalog.ensureEntity(collectionId!, req.label));
  for (const itemId of new Set(stored)) {
    const item = await deps.catalog.getItem(itemId);
    if (!item) continue;
    if (item.entityId === null) {
      await deps.catalog.linkItem(item.id, (await entity()).id);
      result.linked++;
    } else if (item.entityId === result.entity?.id) {
      result.already++;
    } else {
      result.elsewhere.push({ itemId: item.id, label: item.entityLabel ?? `#${item.entityId}` });
    }
  }
  if (summary.added > 0 && collectionId !== undefined) await entity();
  if (text && summary.added === 0 && collectionId !== undefined) {
    result.entity = await describe(deps, { label: (await entity()).label, text, collection: req.collection, ...(req.author ? { author: req.author } : {}) }, options);
    result.described = true;
  }
  await deps.references.catchUp();
  return result;
}

/** One plain sentence per outcome, for chat and the command line. */
export function teachSummary(label: string, collection: string, r: TeachResult): string[] {
  const photos = (n: number) => `${n} photo${n === 1 ? '' : 's'}`;
  const lines: string[] = [];
  if (r.added) lines.push(`Added ${photos(r.added)} of ${label} to ${collection}.`);
  if (r.linked) lines.push(`Linked ${photos(r.linked)} already in the gallery to ${label}.`);
  if (r.already) lines.push(`${r.already === 1 ? 'One photo was' : `${r.already} photos were`} already ${label}'s.`);
  for (const e of r.elsewhere) lines.push(`A photo you posted is already ${e.label} (image #${e.itemId}); it stays there.`);
  if (r.described) lines.push(`Kept the description for ${label}.`);
  for (const f of r.failed) lines.push(`Could not add ${f.origin}: ${f.reason}`);
  return lines;
}

/** Whether a teach changed anything (the reply is then not an error). */
export const taughtAnything = (r: TeachResult): boolean => r.added + r.linked + r.already > 0 || r.described;
