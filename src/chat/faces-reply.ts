/**
 * The chat's `faces` and `faces name <group> <label>`: the unknown face groups of the person
 * collections this conversation sees with faces on (src/faces/face-clusters.ts), one card each with
 * its sample photo and a Name this person button, and naming one group (typed, or through that
 * button). All are person queries: the caller's `audit` records each collection before it is read.
 */
import type { Collection, Catalog, Item } from '../catalog/catalog.js';
import { ErrorCode, ReferentError } from '../errors.js';
import { type FaceGroup, nameFaceGroup, unknownFaceGroups } from '../faces/face-clusters.js';
import type { Visible } from './access.js';
import { facePlace } from '../search/face-search.js';
import { nameAction } from './cards.js';
import type { Card, Reply } from './reply.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const noGroup = (groupId: number) =>
  new ReferentError(ErrorCode.NotFound, `There is no unknown face group ${groupId} here now (named already, or its photos changed): say "faces" to list them again.`);

/** Person collections visible here (so granted and enabled for person search) with faces on. */
async function faceCollections(catalog: Catalog, visible: Visible): Promise<Collection[]> {
  const on = new Set(await catalog.faceCollectionIds());
  const found = visible.collections.filter((c) => c.kind === 'person' && on.has(c.id));
  if (found.length === 0) throw new ReferentError(ErrorCode.NotFound, 'No person collection with faces on is shared with this conversation.');
  return found;
}

/**
 * The photo a group's card shows: its sample's, or else another of its photos, so that no two cards of
 * one answer show the same photo (adapters find a card to redraw by its photo, and a group photo
 * holds several people). Null when every photo of the group is gone or already on a card.
 */
async function cardPhoto(catalog: Catalog, group: FaceGroup, shown: ReadonlySet<number>): Promise<Item | null> {
  for (const id of [group.sample.itemId, ...group.itemIds]) {
    if (shown.has(id)) continue;
    const item = await catalog.getItem(id);
    if (item) return item;
  }
  return null;
}

export async function unknownFacesReply(catalog: Catalog, visible: Visible, audit: (collectionId: number) => Promise<void>, maxCards: number): Promise<Reply> {
  const cards: Card[] = [];
  const shown = new Set<number>();
  let total = 0;
  let truncated = false;
  for (const collection of await faceCollections(catalog, visible)) {
    await audit(collection.id);
    const found = await unknownFaceGroups(catalog, collection.id);
    total += found.groups.length;
    truncated ||= found.truncated;
    for (const group of found.groups) {
      if (cards.length >= maxCards) break;
      const own = await cardPhoto(catalog, group, shown);
      // Every photo of this group is on an earlier card already: its card, without a button, shows the sample.
      const item = own ?? (await catalog.getItem(group.sample.itemId));
      if (!item) continue;
      shown.add(item.id);
      // On a photo of several faces, which one this group's is.
      const face = group.faces.find((f) => f.itemId === item.id);
      const where = face && (await catalog.facesOf(item.id)).length > 1 ? ` (the face at ${facePlace(face.box, item.width)})` : '';
      const why = `${plural(group.itemIds.length, 'photo')}, not named yet${where}: "faces name ${group.id} <label>" names them`;
      const actions = own ? [nameAction({ collectionId: collection.id, groupId: group.id, itemId: item.id })] : [];
      cards.push({ itemId: item.id, mediaKey: item.mediaKey, title: `Unknown face group ${group.id}`, collection: collection.name, why, more: group.itemIds.length - 1, actions });
    }
  }
  if (total === 0) return { kind: 'info', text: 'Every face found here is named (or no faces were found yet).', cards: [] };
  const listed = cards.length < total ? ` (the ${cards.length} largest here)` : '';
  const more = truncated ? ' There are more faces than I group at once: name some and ask again.' : '';
  return { kind: 'results', text: `${plural(total, 'group')} of faces nobody has named${listed}. Name one with its Name this person button, or "faces name <group> <label>".${more}`, cards };
}

const namedText = (photos: number, collection: Collection, label: string) => `Named: ${plural(photos, 'photo')} in ${collection.name} ${photos === 1 ? 'is' : 'are'} now ${label}.`;

export async function nameFacesReply(catalog: Catalog, visible: Visible, audit: (collectionId: number) => Promise<void>, groupId: number, label: string): Promise<Reply> {
  for (const collection of await faceCollections(catalog, visible)) {
    await audit(collection.id);
    if (!(await unknownFaceGroups(catalog, collection.id)).groups.some((g) => g.id === groupId)) continue;
    const { group } = await nameFaceGroup(catalog, collection.id, groupId, label);
    return { kind: 'info', text: namedText(group.itemIds.length, collection, label), cards: [] };
  }
  throw noGroup(groupId);
}

/** What a Name this person button names. Its ids come back from a client: untrusted. */
export interface FaceGroupRef {
  collectionId: number;
  groupId: number;
  /** The photo the group's card shows. */
  itemId: number;
}

export interface PressedFaceGroup {
  collection: Collection;
  group: FaceGroup;
  item: Item;
}

/**
 * The unknown group a Name this person button names, as it is now. Its collection must be visible
 * here, a person collection, with faces on; it is audited before its faces are read; the group must
 * still be unknown, and the card's photo still one of the group's. Anything else is the NOT_FOUND
 * `faces name` answers, so a group that is gone and one that is elsewhere read alike.
 */
export async function pressedFaceGroup(catalog: Catalog, visible: Visible, audit: (collectionId: number) => Promise<void>, ref: FaceGroupRef): Promise<PressedFaceGroup> {
  const on = new Set(await catalog.faceCollectionIds());
  const collection = visible.byId.get(ref.collectionId);
  if (!collection || collection.kind !== 'person' || !on.has(collection.id)) throw noGroup(ref.groupId);
  await audit(collection.id);
  const group = (await unknownFaceGroups(catalog, collection.id)).groups.find((g) => g.id === ref.groupId);
  const item = group?.itemIds.includes(ref.itemId) ? await catalog.getItem(ref.itemId) : null;
  if (!group || !item || item.collectionId !== collection.id) throw noGroup(ref.groupId);
  return { collection, group, item };
}

/** Names a group pressedFaceGroup found (in the same audited request): the links and the answer of `faces name`. */
export async function namePressedGroup(catalog: Catalog, pressed: PressedFaceGroup, label: string): Promise<{ text: string; photos: number }> {
  const { group } = await nameFaceGroup(catalog, pressed.collection.id, pressed.group.id, label);
  return { text: namedText(group.itemIds.length, pressed.collection, label), photos: group.itemIds.length };
}
