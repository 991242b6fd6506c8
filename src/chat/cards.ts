/**
 * Search hits as neutral cards, and the buttons' values. A value is self-contained (the assistant
 * keeps no per-message state, so a button still works after a restart) and untrusted when it comes
 * back: it is parsed strictly and everything it names is checked again.
 */
import { z } from 'zod';
import type { Collection } from '../catalog/catalog.js';
import { ErrorCode, ReferentError } from '../errors.js';
import type { SearchHit } from '../search/search.js';
import type { Card, CardAction, ReplyAction, ScoreBand } from './reply.js';

/** Slack's limit on a button value; every platform's is at least this. */
export const MAX_ACTION_VALUE = 2000;
const MAX_QUERY_IN_VALUE = 1000;
const MAX_WHY_IN_VALUE = 400;

/**
 * Below this a cosine is no evidence with any CLIP-style encoder (unrelated text and image sit at
 * 0.1 to 0.15 with CLIP ViT-B/16): such a hit is weak whatever its rank.
 */
const MIN_SIMILARITY = 0.1;

/**
 * The band follows what the card shows. A hit its label carried (the query named its identifier or
 * its entity) is strong. A hit carried by its entity's reference is banded on the refined score, in
 * standard deviations above the candidates' mean (and only while the description or photo its why
 * line names is itself similar enough): strong stands well clear (2.5 or more) and close
 * to the best hit (85% of its score), good clear (1.2) and at least half the best. A hit carried by
 * its own similarity, whose why line shows that cosine, is banded on the cosine: no better than weak
 * unless it is at least MIN_SIMILARITY and also stands out among the candidates, and then by its
 * distance from the best similarity on the page (a cosine's scale depends on the encoder, its
 * differences much less).
 */
export function scoreBand(hit: SearchHit, best: { score: number; similarity: number }): ScoreBand {
  if (hit.why?.label) return 'strong';
  // A face of the posted photo matched at or above the calibrated threshold (src/search/face-search.ts).
  if (hit.why?.face && hit.why.face.queryFace !== null) return 'strong';
  const relative: ScoreBand = hit.score >= Math.max(2.5, 0.85 * best.score) ? 'strong' : hit.score >= Math.max(1.2, 0.5 * best.score) ? 'good' : 'weak';
  if (!hit.components) return plainBand(hit.score, best.similarity);
  if (hit.why && hit.why.carriedBy !== 'similarity') {
    // The description or photo the why line names must itself be evidence, not merely the least bad.
    const shown = hit.why.description?.score ?? hit.why.photo?.score;
    return shown !== undefined && shown < MIN_SIMILARITY ? 'weak' : relative;
  }
  const own = plainBand(hit.components.initial, best.similarity);
  return own === 'strong' ? relative : relative === 'weak' ? 'weak' : own;
}

function plainBand(cosine: number, best: number): ScoreBand {
  if (!(cosine >= MIN_SIMILARITY)) return 'weak';
  return cosine >= best - 0.02 ? 'strong' : cosine >= best - 0.08 ? 'good' : 'weak';
}

/** Base64 of an int8 vector: a 1024-d query fits a button with room for the rest. */
const MAX_VECTOR_IN_VALUE = 1400;

const cardActionSchema = z.object({
  v: z.literal(1),
  a: z.enum(['confirm', 'reject', 'more']),
  i: z.number().int().positive(),
  q: z.string().max(MAX_QUERY_IN_VALUE),
  e: z.number().int().positive().nullable(),
  b: z.enum(['strong', 'good', 'weak']).nullable(),
  w: z.string().max(MAX_WHY_IN_VALUE),
  /** Whether q is words someone typed (kept as a description on confirm) or a note for a photo. */
  t: z.boolean(),
  /** The query vector that was searched with, when it was not q's own (a photo, or a photo with words). */
  x: z.string().max(MAX_VECTOR_IN_VALUE).regex(/^[A-Za-z0-9+/]*={0,2}$/).optional(),
});

const replyActionSchema = z.object({
  v: z.literal(1),
  a: z.enum(['forget', 'cancel']),
  /** The entity to forget, and the label it was asked by (for the answer). */
  e: z.number().int().positive(),
  l: z.string().max(MAX_QUERY_IN_VALUE),
});

/**
 * Name this person, on an unknown face group's card: the group's collection, the group (its id, the
 * smallest face id) and the photo its card shows. Strict: a value with anything else is not ours.
 */
const nameActionSchema = z
  .object({
    v: z.literal(1),
    a: z.literal('name'),
    c: z.number().int().positive(),
    g: z.number().int().positive(),
    i: z.number().int().positive(),
  })
  .strict();

export type ActionValue = z.infer<typeof cardActionSchema>;
export type ReplyActionValue = z.infer<typeof replyActionSchema>;
export type NameActionValue = z.infer<typeof nameActionSchema>;

const clip = (s: string, n: number) => (s.length <= n ? s : n < 1 ? '' : `${s.slice(0, n - 1)}…`);

/** What the buttons answer: words someone typed, or a note standing for a photo query. */
export interface AskedQuery {
  text: string;
  typed: boolean;
  /** The vector searched with, when it is not the text's own (a photo, or a photo with words). */
  vector?: Float32Array;
}

export interface CardBasis {
  itemId: number;
  entityId: number | null;
  band: ScoreBand | null;
  why: string;
}

/** A unit vector as base64 int8 (cosine agreement with the original above 0.999 at 512 dimensions). */
export function packVector(v: Float32Array): string {
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  const bytes = new Int8Array(v.length);
  if (max > 0) for (let i = 0; i < v.length; i++) bytes[i] = Math.round((v[i]! / max) * 127);
  return Buffer.from(bytes.buffer).toString('base64');
}

/** The unit vector of packVector's output, or null when it is not a `dim`-long non-zero vector. */
export function unpackVector(packed: string, dim: number): Float32Array | null {
  const bytes = new Int8Array(Buffer.from(packed, 'base64'));
  if (bytes.length !== dim) return null;
  const v = Float32Array.from(bytes);
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm === 0) return null;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i]! *= scale;
  return v;
}

/**
 * The button value: at most MAX_ACTION_VALUE characters once JSON has escaped it (quotes and control
 * characters take 2 to 6 characters each), shortening the query and the why line as needed.
 */
export function encodeAction(kind: ActionValue['a'], card: CardBasis, query: AskedQuery): string {
  const x = query.vector && kind !== 'more' ? packVector(query.vector) : undefined;
  for (let q = MAX_QUERY_IN_VALUE, w = MAX_WHY_IN_VALUE; ; q = Math.floor(q / 2), w = Math.floor(w / 2)) {
    const value: ActionValue = { v: 1, a: kind, i: card.itemId, q: clip(query.text, q), e: card.entityId, b: card.band, w: clip(card.why, w), t: query.typed, ...(x && x.length <= MAX_VECTOR_IN_VALUE ? { x } : {}) };
    const json = JSON.stringify(value);
    if (json.length <= MAX_ACTION_VALUE) return json;
  }
}

/** The buttons under a `forget` question: forget (destructive) and keep. */
export function forgetActions(entityId: number, label: string): ReplyAction[] {
  const value = (a: 'forget' | 'cancel') => JSON.stringify({ v: 1, a, e: entityId, l: clip(label, MAX_QUERY_IN_VALUE) } satisfies ReplyActionValue);
  return [
    { kind: 'forget', label: `Forget ${clip(label, 60)}`, value: value('forget'), danger: true },
    { kind: 'cancel', label: 'Keep it', value: value('cancel') },
  ];
}

/** Name this person on an unknown face group's card (`faces`). */
export function nameAction(group: { collectionId: number; groupId: number; itemId: number }): CardAction {
  const value: NameActionValue = { v: 1, a: 'name', c: group.collectionId, g: group.groupId, i: group.itemId };
  return { kind: 'name', label: 'Name this person', value: JSON.stringify(value) };
}

/** Parses a button value sent back by a client (a card's or a reply's); anything malformed is USAGE_INVALID. */
export function decodeAction(value: unknown): ActionValue | NameActionValue | ReplyActionValue {
  let parsed: unknown;
  try {
    parsed = typeof value === 'string' && value.length <= MAX_ACTION_VALUE ? JSON.parse(value) : undefined;
  } catch {
    parsed = undefined;
  }
  const result = cardActionSchema.safeParse(parsed);
  if (result.success) return result.data;
  const name = nameActionSchema.safeParse(parsed);
  if (name.success) return name.data;
  const reply = replyActionSchema.safeParse(parsed);
  if (reply.success) return reply.data;
  throw new ReferentError(ErrorCode.UsageInvalid, 'That button is not one of mine (or it is from an older version): search again.');
}

export const isCardAction = (a: ActionValue | NameActionValue | ReplyActionValue): a is ActionValue => a.a === 'confirm' || a.a === 'reject' || a.a === 'more';
export const isNameAction = (a: ActionValue | NameActionValue | ReplyActionValue): a is NameActionValue => a.a === 'name';

const LABELS: Record<ActionValue['a'], string> = { confirm: "That's it", reject: 'Not it', more: 'More like this' };

export function cardActions(card: CardBasis, query: AskedQuery): CardAction[] {
  return (['confirm', 'reject', 'more'] as const).map((kind) => ({ kind, label: LABELS[kind], value: encodeAction(kind, card, query) }));
}

export function cardTitle(item: { entityLabel: string | null; caption: string | null; id: number }): string {
  return item.entityLabel ?? (item.caption ? clip(item.caption, 80) : `Unlabelled image #${item.id}`);
}

/** One card per hit; `query` is what a verdict will record. */
export function hitCards(hits: readonly SearchHit[], collections: ReadonlyMap<number, Collection>, query: AskedQuery): Card[] {
  // Face matches come first whatever their score: the others are banded against the best of the others.
  const ranked = hits.filter((h) => !(h.why?.face && h.why.face.queryFace !== null));
  const best = { score: ranked[0]?.score ?? 0, similarity: Math.max(0, ...ranked.map((h) => (h.components ? h.components.initial : h.score))) };
  return hits.map((hit) => {
    const band = scoreBand(hit, best);
    const why = hit.why?.summary ?? `similarity ${hit.score.toFixed(2)}`;
    const entityId = hit.item.entityId ?? hit.why?.entity?.id ?? null;
    const base = { itemId: hit.itemId, entityId, band, why };
    return {
      itemId: hit.itemId,
      mediaKey: hit.item.mediaKey,
      title: cardTitle(hit.item),
      collection: collections.get(hit.item.collectionId)?.name ?? '',
      band,
      why,
      more: hit.more.length,
      actions: cardActions(base, query),
    };
  });
}
