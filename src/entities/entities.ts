/**
 * Teaching and inspecting entities without chat: describe, show, forget, and review verdicts
 * (confirm / reject / undo). Each writes to the catalogue first, then brings the references and the
 * image index up to date, so the very next query sees the change.
 */
import type { Catalog, Entity, Item, Verdict, VerdictKind } from '../catalog/catalog.js';
import type { Encoder } from '../encoder/encoder.js';
import { ErrorCode, ReferentError } from '../errors.js';
import type { ImageIndex } from '../index/image-index.js';
import type { MediaStore } from '../media/media-store.js';
import { emptyMediaTrash } from '../media/media-trash.js';
import { embedTexts } from '../references/embed-text.js';
import type { References } from '../references/references.js';

export interface EntityDeps {
  catalog: Catalog;
  encoder: Encoder;
  media: MediaStore;
  index: ImageIndex;
  references: References;
}

function checkText(text: string, maxTextChars: number, what: string): string {
  const body = text.trim();
  if (!body) throw new ReferentError(ErrorCode.UsageInvalid, `The ${what} is empty.`);
  if (body.length > maxTextChars) throw new ReferentError(ErrorCode.TextTooLong, `The ${what} is ${body.length} characters; the limit is ${maxTextChars}.`);
  return body;
}

/** The live entity with this label (in `collection` when given); errors say what to do instead. */
export async function resolveEntity(catalog: Catalog, label: string, collection?: string): Promise<Entity> {
  let found = await catalog.findEntities(label);
  if (collection !== undefined) {
    const c = await catalog.findCollection(collection);
    found = found.filter((e) => e.collectionId === c?.id);
  }
  if (found.length === 0) throw new ReferentError(ErrorCode.NotFound, `Nothing is called "${label}"${collection ? ` in ${collection}` : ''}. Add it with \`referent add "${label}" --image PATH\`.`, { details: { label } });
  if (found.length > 1) {
    const collections = await catalog.listCollections();
    const names = found.map((e) => collections.find((c) => c.id === e.collectionId)?.name ?? String(e.collectionId));
    throw new ReferentError(ErrorCode.LabelAmbiguous, `"${label}" exists in several collections (${names.join(', ')}); say which with --collection.`, { details: { label, collections: names } });
  }
  return found[0]!;
}

/**
 * Adds a description to an entity: the one with this label (in `collection` when given), or a new
 * one in `collection` (default "default") when no entity has the label yet.
 */
export async function describe(deps: EntityDeps, req: { label: string; text: string; collection?: string; author?: string }, limits: { maxTextChars: number }): Promise<Entity> {
  const body = checkText(req.text, limits.maxTextChars, 'description');
  const exists = (await deps.catalog.findEntities(req.label)).length > 0;
  const entity = exists ? await resolveEntity(deps.catalog, req.label, req.collection) : await deps.catalog.ensureEntity((await deps.catalog.ensureCollection(req.collection ?? 'default')).id, req.label);
  const [embedding] = await embedTexts(deps.encoder, [body]);
  await deps.catalog.addText({ entityId: entity.id, body, source: 'describe', author: req.author ?? null }, embedding!);
  await deps.references.catchUp();
  return entity;
}

export interface EntityView {
  entity: Entity;
  items: Item[];
  descriptions: Array<{ textId: number; text: string; source: string; weight: number }>;
  details: string[];
  /** Fusion weight of each photo in the image reference (item id → weight). */
  photoWeights: Array<{ itemId: number; weight: number }>;
  /** What the labels on its photos read (OCR), with the identifiers found on them: searchable as the entity's own. */
  labels: Array<{ itemId: number; lines: string[]; identifiers: string[] }>;
}

export async function show(deps: EntityDeps, label: string, collection?: string): Promise<EntityView> {
  await deps.references.catchUp();
  const entity = await resolveEntity(deps.catalog, label, collection);
  const entry = deps.references.get(entity.id);
  const texts = entry?.material.texts ?? [];
  const items = await deps.catalog.entityItems(entity.id);
  const labels: EntityView['labels'] = [];
  for (const item of items) {
    const ocr = await deps.catalog.ocrOf(item.id);
    if (ocr && ocr.lines.length) labels.push({ itemId: item.id, lines: ocr.lines.map((l) => l.text), identifiers: ocr.identifiers });
  }
  return {
    entity,
    items,
    descriptions: texts.map((t, i) => ({ textId: t.textId, text: t.body, source: t.source, weight: entry!.ref.textWeights[i] ?? 0 })),
    details: [...new Set((entry?.material.phrases ?? []).map((p) => p.body))],
    photoWeights: (entry?.material.images ?? []).map((img, i) => ({ itemId: img.itemId, weight: entry!.ref.imageWeights[i] ?? 0 })),
    labels,
  };
}

/** Forgets an entity with its images, descriptions, verdicts and media files. */
export async function forget(deps: EntityDeps, label: string, collection?: string): Promise<{ entity: Entity; items: number }> {
  const entity = await resolveEntity(deps.catalog, label, collection);
  const { itemIds } = await deps.catalog.forgetEntity(entity.id);
  // The files were queued in the same transaction: a crash from here on only delays their deletion.
  await emptyMediaTrash(deps.catalog, deps.media);
  await deps.catalog.checkpoint();
  await deps.index.catchUp();
  await deps.references.catchUp();
  return { entity, items: itemIds.length };
}

export interface ReviewRequest {
  query: string;
  itemId: number;
  verdict: VerdictKind;
  /** The entity the image shows (confirm): by label in the image's collection, or by id (a card's suggestion). */
  entityLabel?: string;
  entityId?: number | null;
  user?: string;
  /** False when `query` is a note rather than words someone asked (a photo query): not kept as a description. */
  keepQuery?: boolean;
  /** The vector that was searched with, when it is not the query text's own (a photo, a photo with words). */
  searched?: Float32Array;
}

/**
 * Records a verdict. Confirm links an unlinked image to its entity and keeps the query as a
 * description of it; reject records the negative pair, so later queries like it demote the image.
 */
export async function review(deps: EntityDeps, req: ReviewRequest, limits: { maxTextChars: number }): Promise<{ verdict: Verdict; entity: Entity | null }> {
  const query = checkText(req.query, limits.maxTextChars, 'query');
  await deps.references.catchUp();
  const item = await deps.catalog.getItem(req.itemId);
  if (!item) throw new ReferentError(ErrorCode.NotFound, `There is no image #${req.itemId}.`, { details: { itemId: req.itemId } });
  let entity: Entity | null = null;
  if (req.entityLabel) entity = await deps.catalog.ensureEntity(item.collectionId, req.entityLabel);
  else if (item.entityId !== null) entity = await deps.catalog.getEntity(item.entityId);
  else if (req.entityId != null) entity = await deps.catalog.getEntity(req.entityId);
  if (entity && entity.collectionId !== item.collectionId) {
    throw new ReferentError(ErrorCode.Conflict, `Image #${item.id} and "${entity.label}" are in different collections.`);
  }
  if (entity && item.entityId !== null && item.entityId !== entity.id) {
    throw new ReferentError(ErrorCode.Conflict, `Image #${item.id} is already linked to "${item.entityLabel}".`, { details: { itemId: item.id } });
  }
  if (req.verdict === 'confirm' && !entity) {
    throw new ReferentError(ErrorCode.LabelNeeded, `Image #${item.id} is not linked to anything yet: say what it shows (--as <label>).`, { details: { itemId: item.id } });
  }
  const [embedding] = await embedTexts(deps.encoder, [query]);
  const verdict = await deps.catalog.addVerdict(
    { query, itemId: item.id, entityId: entity?.id ?? null, verdict: req.verdict, user: req.user ?? null, ...(req.keepQuery === false ? { keepQuery: false } : {}), ...(req.searched ? { searched: req.searched } : {}) },
    embedding!,
  );
  await deps.references.catchUp();
  return { verdict, entity };
}

export async function undoReview(deps: EntityDeps, verdictId: number): Promise<Verdict> {
  const undone = await deps.catalog.undoVerdict(verdictId);
  if (!undone) throw new ReferentError(ErrorCode.NotFound, `There is no verdict #${verdictId} to undo (or it was already undone).`);
  await deps.references.catchUp();
  return undone;
}
