/**
 * The chat's `faces` and `faces name <group> <label>`: the unknown face groups of the person
 * collections this conversation sees with faces on (src/faces/face-clusters.ts), one card each with
 * its sample photo, and naming one group. Both are person queries: the caller's `audit` records each
 * collection before it is read.
 */
import type { Collection, Catalog } from '../catalog/catalog.js';
import { ErrorCode, ReferentError } from '../errors.js';
import { nameFaceGroup, unknownFaceGroups } from '../faces/face-clusters.js';
import type { Visible } from './access.js';
import type { Card, Reply } from './reply.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Person collections visible here (so granted and enabled for person search) with faces on. */
async function faceCollections(catalog: Catalog, visible: Visible): Promise<Collection[]> {
  const on = new Set(await catalog.faceCollectionIds());
  const found = visible.collections.filter((c) => c.kind === 'person' && on.has(c.id));
  if (found.length === 0) throw new ReferentError(ErrorCode.NotFound, 'No person collection with faces on is shared with this conversation.');
  return found;
}

export async function unknownFacesReply(catalog: Catalog, visible: Visible, audit: (collectionId: number) => Promise<void>, maxCards: number): Promise<Reply> {
  const cards: Card[] = [];
  let total = 0;
  let truncated = false;
  for (const collection of await faceCollections(catalog, visible)) {
    await audit(collection.id);
    const found = await unknownFaceGroups(catalog, collection.id);
    total += found.groups.length;
    truncated ||= found.truncated;
    for (const group of found.groups) {
      if (cards.length >= maxCards) break;
      const item = await catalog.getItem(group.sample.itemId);
      if (!item) continue;
      const why = `${plural(group.itemIds.length, 'photo')}, not named yet: "faces name ${group.id} <label>" names them`;
      cards.push({ itemId: item.id, mediaKey: item.mediaKey, title: `Unknown face group ${group.id}`, collection: collection.name, why, more: group.itemIds.length - 1, actions: [] });
    }
  }
  if (total === 0) return { kind: 'info', text: 'Every face found here is named (or no faces were found yet).', cards: [] };
  const shown = cards.length < total ? ` (the ${cards.length} largest here)` : '';
  const more = truncated ? ' There are more faces than I group at once: name some and ask again.' : '';
  return { kind: 'results', text: `${plural(total, 'group')} of faces nobody has named${shown}. Name one with "faces name <group> <label>".${more}`, cards };
}

export async function nameFacesReply(catalog: Catalog, visible: Visible, audit: (collectionId: number) => Promise<void>, groupId: number, label: string): Promise<Reply> {
  for (const collection of await faceCollections(catalog, visible)) {
    await audit(collection.id);
    if (!(await unknownFaceGroups(catalog, collection.id)).groups.some((g) => g.id === groupId)) continue;
    const { group } = await nameFaceGroup(catalog, collection.id, groupId, label);
    return { kind: 'info', text: `Named: ${plural(group.itemIds.length, 'photo')} in ${collection.name} are now ${label}.`, cards: [] };
  }
  throw new ReferentError(ErrorCode.NotFound, `There is no unknown face group ${groupId} here now (named already, or its photos changed): say "faces" to list them again.`);
}
