/**
 * Search: a text, a photo, or both (their unit vectors summed and renormalised) against the image
 * index, optionally within some collections. Refined by default (docs/search.md): candidates
 * from the image index and the reference index are re-scored against the entities' references, review
 * verdicts on similar queries move their images, and hits are grouped by entity and explained.
 * A text that names an identifier also has a lexical side (hybrid.ts): images whose label carries
 * it come first. `refine: false` gives plain cosine. Higher score = better.
 */
import type { Catalog, Item, LexicalMatches } from '../catalog/catalog.js';
import type { MethodConfig } from '../config.js';
import type { Encoder } from '../encoder/encoder.js';
import { ErrorCode, ReferentError } from '../errors.js';
import type { ImageIndex } from '../index/image-index.js';
import { dotMatrix } from '../method/dot-matrix.js';
import { meanStd } from '../method/stats.js';
import { refinedRanking, type RetrievalParts } from '../method/pipeline.js';
import type { RefinedCandidate, RefineQuery } from '../method/refine.js';
import type { ReferenceEntry, References } from '../references/references.js';
import { dot, normalizedSum } from '../vectors.js';
import { carrier, explain, type Why } from './explain.js';
import { faceCollectionsOf, type FaceSearchDeps, likedFaces, withFaceMatches, withFaceSuggestions } from './face-search.js';
import { fuseLexical, labelKeys, type LexicalEvidence, PLAIN_HYBRID, queryTerms, REFINED_HYBRID } from './hybrid.js';

export interface SearchDeps {
  catalog: Catalog;
  encoder: Encoder;
  index: ImageIndex;
  references: References;
  method: MethodConfig;
  /** Faces in person collections with faces on (face-search.ts); absent, search does not look at faces. */
  faces?: FaceSearchDeps;
}

export interface SearchRequest {
  text?: string;
  /** Encoded image bytes (untrusted). */
  image?: Uint8Array;
  /** Collection names to search; all collections when absent. */
  collections?: readonly string[];
  /** Collection ids to search (what a chat scope may see); wins over `collections`. */
  collectionIds?: ReadonlySet<number>;
  /**
   * Find images like this one ("More like this"): its vector is the query (with `faces`, its stored
   * faces too, without the runtime), and it is left out of the hits.
   */
  likeItem?: number;
  limit: number;
  /** Refine against references (default: the configured REFERENT_REFINE). */
  refine?: boolean;
}

export interface HitComponents {
  initial: number;
  entity: number;
  feedback: number;
  final: number;
}

export interface SearchHit {
  itemId: number;
  /** The refined score (standard deviations above the candidates' mean), or the cosine when plain. */
  score: number;
  item: Item;
  /** Null for plain search. */
  components: HitComponents | null;
  why: Why | null;
  /** Other images of the same entity among the results, folded into this hit (best first). */
  more: number[];
}

export const MAX_LIMIT = 1000;

export async function searchItems(deps: SearchDeps, request: SearchRequest, limits: { maxTextChars: number }): Promise<SearchHit[]> {
  return (await search(deps, request, limits)).hits;
}

/** searchItems, with the query vector it searched with (a verdict on a hit is recorded against it). */
export async function search(deps: SearchDeps, request: SearchRequest, limits: { maxTextChars: number }): Promise<{ hits: SearchHit[]; vector: Float32Array }> {
  const text = checkRequest(request, limits);
  const collectionIds = request.collectionIds ?? (request.collections ? await resolveCollections(deps.catalog, request.collections) : undefined);
  const refine = request.refine ?? deps.method.refine;
  // Another process (an ingest, a review) may have committed since we loaded: follow the logs first.
  await deps.index.catchUp();
  const query = request.likeItem === undefined ? await queryVectors(deps.encoder, text, request.image) : await likeItemQuery(deps, request.likeItem);
  const liked = request.likeItem;
  if (liked !== undefined) {
    // The image itself would be the first hit: ask for one more and leave it out (of `more` too).
    const hits = await searchWith(deps, query, request.limit + 1, collectionIds, refine, null);
    const others = hits.filter((h) => h.itemId !== liked).slice(0, request.limit).map((h) => (h.more.includes(liked) ? { ...h, more: h.more.filter((id) => id !== liked) } : h));
    return { hits: await withFaces(deps, others, { liked }, collectionIds, request.limit), vector: query.vector };
  }
  const hits = await searchWith(deps, query, request.limit, collectionIds, refine, text ? await lexicalSide(deps.catalog, text, collectionIds) : null);
  return { hits: await withFaces(deps, hits, request.image ? { image: request.image } : {}, collectionIds, request.limit), vector: query.vector };
}

/**
 * What search refuses before it reads anything (USAGE_INVALID, TEXT_TOO_LONG): a caller that audits
 * the query first checks it here, so a refused query is never recorded. Returns the trimmed text.
 */
export function checkRequest(request: SearchRequest, limits: { maxTextChars: number }): string | undefined {
  const text = request.text?.trim();
  if (!text && !request.image && request.likeItem === undefined) throw new ReferentError(ErrorCode.UsageInvalid, 'Give a description, an image, or both.');
  if (text && text.length > limits.maxTextChars) {
    throw new ReferentError(ErrorCode.TextTooLong, `The query is ${text.length} characters; the limit is ${limits.maxTextChars}.`);
  }
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_LIMIT) {
    throw new ReferentError(ErrorCode.UsageInvalid, `The limit must be a whole number from 1 to ${MAX_LIMIT}.`);
  }
  return text;
}

/**
 * Face matches first, of a posted photo's faces (found by the runtime) or of a liked image's (as
 * stored: the runtime is not used), and people suggested by face on unlabelled images (face-search.ts).
 */
async function withFaces(
  deps: SearchDeps,
  hits: SearchHit[],
  query: { image?: Uint8Array; liked?: number },
  collectionIds: ReadonlySet<number> | undefined,
  limit: number,
): Promise<SearchHit[]> {
  if (!deps.faces) return hits;
  const collections = await faceCollectionsOf(deps.catalog, collectionIds);
  if (collections.size === 0) return hits;
  const faces = query.liked !== undefined ? await likedFaces(deps.catalog, query.liked) : query.image ? (await deps.faces.runtime.detect(query.image)).faces : [];
  const matched = await withFaceMatches(deps.catalog, faces, collections, hits, limit, query.liked);
  return withFaceSuggestions(deps.catalog, collections, matched);
}

/**
 * What the query's labels, identifiers and words find. Only a query that names an entity or an
 * identifier has a lexical side: any other query ranks exactly as the vectors and references rank
 * it (null). Words count only beside an identifier.
 */
async function lexicalSide(catalog: Catalog, text: string, collectionIds: ReadonlySet<number> | undefined): Promise<LexicalMatches | null> {
  const terms = queryTerms(text);
  const labels = labelKeys(text);
  const matches = await catalog.lexicalMatches({ identifiers: terms.identifiers, words: terms.identifiers.length > 0 ? terms.words : [], labels, ...(collectionIds ? { collectionIds } : {}) });
  return matches.items.size > 0 ? matches : null;
}

async function likeItemQuery(deps: SearchDeps, itemId: number): Promise<RefineQuery> {
  const vector = await deps.index.itemVector(itemId);
  if (!vector) throw new ReferentError(ErrorCode.NotFound, `There is no image #${itemId}.`, { details: { itemId } });
  return { vector, photoOnly: true };
}

async function searchWith(
  deps: SearchDeps,
  query: RefineQuery,
  limit: number,
  collectionIds: ReadonlySet<number> | undefined,
  refine: boolean,
  lexical: LexicalMatches | null,
): Promise<SearchHit[]> {
  if (!refine) return plainSearch(deps, query, limit, collectionIds, lexical);
  await deps.references.catchUp();
  return refinedSearch(deps, query, limit, collectionIds, lexical);
}

async function plainSearch(deps: SearchDeps, query: RefineQuery, limit: number, collectionIds: ReadonlySet<number> | undefined, lexical: LexicalMatches | null): Promise<SearchHit[]> {
  const found = await deps.index.search(query.vector, lexical ? Math.max(limit, 50) : limit, collectionIds);
  const vectorItems = await deps.catalog.getItems(found.map((h) => h.itemId));
  const cosine = new Map(found.map((h) => [h.itemId, h.score]));
  let ranked: Array<{ itemId: number; entityId: number | null; final: number; lexical?: LexicalEvidence | null }> = found.map((h) => ({ itemId: h.itemId, entityId: vectorItems.get(h.itemId)?.entityId ?? null, final: h.score }));
  if (lexical) ranked = fuseLexical(ranked, lexical, PLAIN_HYBRID, (itemId, entityId, base) => ({ itemId, entityId, final: base }));
  ranked = ranked.slice(0, limit);
  const items = await deps.catalog.getItems(ranked.map((h) => h.itemId));
  return ranked.flatMap((h) => {
    const item = items.get(h.itemId);
    const seen = cosine.get(h.itemId);
    const why = h.lexical?.label ? labelWhy(h.lexical, seen === undefined ? 'found by its label alone' : `similarity ${seen.toFixed(2)}`) : null;
    return item ? [{ itemId: h.itemId, score: h.final, item, components: null, why, more: [] }] : [];
  });
}

/** "label reads …" first when a printed identifier carried the hit. */
function labelSummary(lexical: LexicalEvidence): string | null {
  const label = lexical.label;
  if (!label) return null;
  const line = label.line.length > 60 ? `${label.line.slice(0, 59)}…` : label.line;
  if (label.own) return `label reads "${line}"`;
  return label.named ? `its label is "${line}"` : `a photo of it reads "${line}"`;
}

function labelWhy(lexical: LexicalEvidence, rest: string): Why {
  return { carriedBy: 'label', entity: null, description: null, photo: null, feedback: null, label: lexical.label, summary: `${labelSummary(lexical)}; ${rest}` };
}

async function refinedSearch(deps: SearchDeps, query: RefineQuery, limit: number, collectionIds: ReadonlySet<number> | undefined, lexical: LexicalMatches | null): Promise<SearchHit[]> {
  const { references, index } = deps;
  const parts: RetrievalParts = {
    searchImages: (q, k) => index.search(q, k, collectionIds),
    searchEntities: (q, k) => references.search(q, k, collectionIds),
    imageVectors: (ids) => index.vectorsOf(ids),
    linkedEntity: (id) => references.entityOf(id),
    reference: (id) => references.get(id)?.ref,
    entityImages: (id, n) => references.imagesOf(id, n),
  };
  const scored = await withFeedback(deps, query.vector, await refinedRanking(parts, query, limit, deps.method.pipeline));
  const ranked: Array<Scored & { lexical?: LexicalEvidence | null }> = lexical ? fuseLexical(scored, lexical, REFINED_HYBRID, freshCandidate) : scored;
  const groups = groupByEntity(ranked, limit);
  // `more` needs no rows: its ids come from the index and the references, both caught up just now.
  const items = await deps.catalog.getItems(groups.map((g) => g.hit.itemId));
  const similarity = explanationSimilarities(query.vector, groups.map((g) => (g.hit.entityId === null ? undefined : references.get(g.hit.entityId))));
  return groups.flatMap(({ hit, more }) => {
    const item = items.get(hit.itemId);
    if (!item) return [];
    // An image with no entity gets its own similarity as evidence: that is not the entity carrying it.
    const contributions = { ...hit.contributions, entity: hit.entityId === null ? 0 : hit.contributions.entity, feedback: hit.feedback };
    const label = hit.lexical ? labelSummary(hit.lexical) : null;
    const why = explain({
      query: query.vector,
      photoOnly: query.photoOnly === true,
      similarity,
      initial: hit.components.initial,
      // A printed identifier outranks every other reason; the summary then says what else holds.
      carriedBy: label ? 'label' : carrier(contributions),
      entry: hit.entityId === null ? undefined : references.get(hit.entityId),
      linked: hit.linked,
      feedback: hit.feedback,
      itemId: hit.itemId,
    });
    const components = { ...hit.components, feedback: hit.feedback, final: hit.final };
    const explained = label ? { ...why, label: hit.lexical!.label, summary: why.summary ? `${label}; ${why.summary}` : label } : why;
    return [{ itemId: hit.itemId, score: hit.final, item, components, why: explained, more }];
  });
}

/**
 * cos(q, ·) for every description and photo of the hits' entities, in one batched call (the
 * explanations compare the query with each of them); other vectors fall back to a plain dot product.
 */
function explanationSimilarities(q: Float32Array, entries: ReadonlyArray<ReferenceEntry | undefined>): (v: Float32Array) => number {
  const vectors = new Set<Float32Array>();
  for (const e of entries) {
    if (!e) continue;
    for (const t of e.material.texts) vectors.add(t.vector);
    for (const i of e.material.images) vectors.add(i.vector);
  }
  const columns = [...vectors];
  const sims = dotMatrix([q], columns);
  const byVector = new Map(columns.map((v, j) => [v, sims[j]!]));
  return (v) => byVector.get(v) ?? dot(q, v);
}

type Scored = RefinedCandidate & { feedback: number };

/** An image only the lexical side found: no visual evidence of its own, its own entity if it has one. */
const freshCandidate = (itemId: number, entityId: number | null, base: number, linked: boolean): Scored => ({
  itemId,
  entityId,
  linked,
  components: { initial: 0, entity: 0 },
  contributions: { initial: 0, entity: 0 },
  final: base,
  feedback: 0,
});

/** The share of an entity card's "That's it" that its other photos get. */
const SIBLING_CONFIRM = 0.5;

/**
 * Verdicts on queries like this one move their images, in proportion to how close the query is to
 * the one the verdict was given on (full for an identical query, nothing at the similarity
 * threshold). At full strength a "Not it" takes away the image's lead over the candidates' median
 * and `weight` standard deviations of their scores more, and a "That's it" brings it level with the
 * best candidate and `weight` deviations above: the verdict decides, whatever the references say.
 * A verdict given on an entity's own
 * photo (its card) speaks for the entity: "Not it" moves every photo of it in full, so a grouped
 * card does not just come back with its next photo; "That's it" lifts the other photos by half, so
 * the confirmed photo stays the face of the entity's card. Re-sorts.
 */
async function withFeedback(deps: SearchDeps, q: Float32Array, ranked: RefinedCandidate[]): Promise<Scored[]> {
  const { similarity, weight } = deps.method.feedback;
  const { modelId } = deps.encoder;
  const strength = (v: { vector: Float32Array }) => Math.min(1, (dot(q, v.vector) - similarity) / (1 - similarity));
  const add = (into: Map<number, { confirm: number; reject: number }>, key: number, kind: 'confirm' | 'reject', s: number) => {
    if (s <= 0) return;
    const shift = into.get(key) ?? { confirm: 0, reject: 0 };
    shift[kind] = Math.max(shift[kind], s);
    into.set(key, shift);
  };
  const byItem = new Map<number, { confirm: number; reject: number }>();
  const byEntity = new Map<number, { confirm: number; reject: number }>();
  for (const v of await deps.catalog.verdictsOn(ranked.map((c) => c.itemId), modelId)) add(byItem, v.itemId, v.verdict, strength(v));
  const linkedEntities = ranked.flatMap((c) => (c.linked && c.entityId !== null ? [c.entityId] : []));
  for (const v of await deps.catalog.entityVerdictsOn(linkedEntities, modelId)) add(byEntity, v.entityId, v.verdict, strength(v));
  const scored = ranked as Scored[];
  const finals = scored.map((c) => c.final).sort((a, b) => a - b);
  const best = finals.at(-1) ?? 0;
  const median = finals[Math.floor(finals.length / 2)] ?? 0;
  const step = weight * Math.max(meanStd(finals).std, 1e-3);
  for (const c of scored) {
    const own = byItem.get(c.itemId);
    const entity = c.linked && c.entityId !== null ? byEntity.get(c.entityId) : undefined;
    const confirm = Math.max(own?.confirm ?? 0, (entity?.confirm ?? 0) * SIBLING_CONFIRM);
    const reject = Math.max(own?.reject ?? 0, entity?.reject ?? 0);
    c.feedback = confirm * (Math.max(0, best - c.final) + step) - reject * (Math.max(0, c.final - median) + step);
  }
  for (const c of scored) c.final += c.feedback;
  // The ranking is already sorted; only verdicts can change the order.
  if (byItem.size > 0 || byEntity.size > 0) scored.sort((a, b) => b.final - a.final || b.components.initial - a.components.initial);
  return scored;
}

/** Best image per linked entity plus the rest of its images as `more`; unlinked images stand alone. */
export function groupByEntity<T extends { itemId: number; entityId: number | null; linked: boolean }>(ranked: readonly T[], limit: number): Array<{ hit: T; more: number[] }> {
  const out: Array<{ hit: T; more: number[] }> = [];
  const byEntity = new Map<number, { hit: T; more: number[] }>();
  for (const c of ranked) {
    const group = c.linked && c.entityId !== null ? byEntity.get(c.entityId) : undefined;
    if (group) {
      group.more.push(c.itemId);
      continue;
    }
    if (out.length === limit) continue;
    const fresh = { hit: c, more: [] as number[] };
    out.push(fresh);
    if (c.linked && c.entityId !== null) byEntity.set(c.entityId, fresh);
  }
  return out;
}

/** The ids of collections named; NOT_FOUND for a name that is none (what `collections` of a request resolves to). */
export async function resolveCollections(catalog: Pick<Catalog, 'findCollection'>, names: readonly string[]): Promise<Set<number>> {
  const ids = new Set<number>();
  for (const name of names) {
    const c = await catalog.findCollection(name);
    if (!c) throw new ReferentError(ErrorCode.NotFound, `There is no collection named "${name}".`, { details: { collection: name } });
    ids.add(c.id);
  }
  return ids;
}

/** The query vector: the text's, the photo's, or both summed and renormalised. A photo alone is marked as such (refine.ts compares it with photo references only). */
async function queryVectors(encoder: Encoder, text: string | undefined, image: Uint8Array | undefined): Promise<RefineQuery> {
  const parts: Float32Array[] = text ? await encoder.encodeTexts([text]) : [];
  if (image) parts.push(...(await encoder.encodeImages([image])));
  const vector = parts.length === 1 ? parts[0]! : normalizedSum(parts);
  return text ? { vector } : { vector, photoOnly: true };
}
