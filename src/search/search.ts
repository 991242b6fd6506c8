/**
 * Plain cosine search: a text, an image, or both (their unit vectors summed and renormalised)
 * against the image index, optionally within some collections. Higher score = better.
 */
import type { Catalog, Item } from '../catalog/catalog.js';
import type { Encoder } from '../encoder/encoder.js';
import { ErrorCode, ReferentError } from '../errors.js';
import type { ItemIndex } from '../index/item-index.js';
import { normalizedSum } from '../vectors.js';

export interface SearchDeps {
  catalog: Catalog;
  encoder: Encoder;
  index: ItemIndex;
}

export interface SearchRequest {
  text?: string;
  /** Encoded image bytes (untrusted). */
  image?: Uint8Array;
  /** Collection names to search; all collections when absent. */
  collections?: readonly string[];
  limit: number;
}

export interface SearchHit {
  itemId: number;
  /** Cosine similarity of query and image. */
  score: number;
  item: Item;
}

export const MAX_LIMIT = 1000;

export async function searchItems(deps: SearchDeps, request: SearchRequest, limits: { maxTextChars: number }): Promise<SearchHit[]> {
  const text = request.text?.trim();
  if (!text && !request.image) throw new ReferentError(ErrorCode.UsageInvalid, 'Give a description, an image, or both.');
  if (text && text.length > limits.maxTextChars) {
    throw new ReferentError(ErrorCode.TextTooLong, `The query is ${text.length} characters; the limit is ${limits.maxTextChars}.`);
  }
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_LIMIT) {
    throw new ReferentError(ErrorCode.UsageInvalid, `The limit must be a whole number from 1 to ${MAX_LIMIT}.`);
  }
  const collectionIds = request.collections ? resolveCollections(deps.catalog, request.collections) : undefined;
  const query = await queryVector(deps.encoder, text, request.image);
  // Another process (an ingest) may have committed items since we loaded: follow the log first.
  deps.index.catchUp();
  const hits = deps.index.search(query, request.limit, collectionIds);
  const items = deps.catalog.getItems(hits.map((h) => h.itemId));
  return hits.flatMap((h) => {
    const item = items.get(h.itemId);
    return item ? [{ itemId: h.itemId, score: h.score, item }] : [];
  });
}

function resolveCollections(catalog: Catalog, names: readonly string[]): Set<number> {
  const ids = new Set<number>();
  for (const name of names) {
    const c = catalog.findCollection(name);
    if (!c) throw new ReferentError(ErrorCode.NotFound, `There is no collection named "${name}".`, { details: { collection: name } });
    ids.add(c.id);
  }
  return ids;
}

async function queryVector(encoder: Encoder, text: string | undefined, image: Uint8Array | undefined): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  if (text) parts.push(...(await encoder.encodeTexts([text])));
  if (image) parts.push(...(await encoder.encodeImages([image])));
  return parts.length === 1 ? parts[0]! : normalizedSum(parts);
}
