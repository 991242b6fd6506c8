/**
 * Search hits as neutral cards, and the buttons' values. A value is self-contained (the assistant
 * keeps no per-message state, so a button still works after a restart) and untrusted when it comes
 * back: it is parsed strictly and everything it names is checked again.
 */
import { z } from 'zod';
import type { Collection } from '../catalog/catalog.js';
import { ErrorCode, ReferentError } from '../errors.js';
import type { SearchHit } from '../search/search.js';
import type { Card, CardAction, CardActionKind, ScoreBand } from './reply.js';

/** Slack's limit on a button value; every platform's is at least this. */
export const MAX_ACTION_VALUE = 2000;
const MAX_QUERY_IN_VALUE = 1000;
const MAX_WHY_IN_VALUE = 400;

/**
 * A refined score is in standard deviations above the candidates' mean: a strong match stands well
 * clear of the rest (2.5 or more) and close to the best hit (85% of its score), a good one clear
 * (1.2) and at least half the best. A plain score is a cosine, whose scale depends on the encoder,
 * so plain hits are banded by their distance from the best one only.
 */
export function scoreBand(hit: SearchHit, best: number): ScoreBand {
  if (hit.components) return hit.score >= Math.max(2.5, 0.85 * best) ? 'strong' : hit.score >= Math.max(1.2, 0.5 * best) ? 'good' : 'weak';
  return hit.score >= best - 0.02 ? 'strong' : hit.score >= best - 0.08 ? 'good' : 'weak';
}

const actionSchema = z.object({
  v: z.literal(1),
  a: z.enum(['confirm', 'reject', 'more']),
  i: z.number().int().positive(),
  q: z.string().max(MAX_QUERY_IN_VALUE),
  e: z.number().int().positive().nullable(),
  b: z.enum(['strong', 'good', 'weak']),
  w: z.string().max(MAX_WHY_IN_VALUE),
  /** Whether q is words someone typed (kept as a description on confirm) or a note for a photo. */
  t: z.boolean(),
});

export type ActionValue = z.infer<typeof actionSchema>;

const clip = (s: string, n: number) => (s.length <= n ? s : n < 1 ? '' : `${s.slice(0, n - 1)}…`);

/** What the buttons answer: words someone typed, or a note standing for a photo query. */
export interface AskedQuery {
  text: string;
  typed: boolean;
}

export interface CardBasis {
  itemId: number;
  entityId: number | null;
  band: ScoreBand;
  why: string;
}

/**
 * The button value: at most MAX_ACTION_VALUE characters once JSON has escaped it (quotes and control
 * characters take 2 to 6 characters each), shortening the query and the why line as needed.
 */
export function encodeAction(kind: CardActionKind, card: CardBasis, query: AskedQuery): string {
  for (let q = MAX_QUERY_IN_VALUE, w = MAX_WHY_IN_VALUE; ; q = Math.floor(q / 2), w = Math.floor(w / 2)) {
    const value: ActionValue = { v: 1, a: kind, i: card.itemId, q: clip(query.text, q), e: card.entityId, b: card.band, w: clip(card.why, w), t: query.typed };
    const json = JSON.stringify(value);
    if (json.length <= MAX_ACTION_VALUE) return json;
  }
}

/** Parses a button value sent back by a client; anything malformed is USAGE_INVALID. */
export function decodeAction(value: unknown): ActionValue {
  let parsed: unknown;
  try {
    parsed = typeof value === 'string' && value.length <= MAX_ACTION_VALUE ? JSON.parse(value) : undefined;
  } catch {
    parsed = undefined;
  }
  const result = actionSchema.safeParse(parsed);
  if (!result.success) throw new ReferentError(ErrorCode.UsageInvalid, 'That button is not one of mine (or it is from an older version): search again.');
  return result.data;
}

const LABELS: Record<CardActionKind, string> = { confirm: "That's it", reject: 'Not it', more: 'More like this' };

export function cardActions(card: CardBasis, query: AskedQuery): CardAction[] {
  return (['confirm', 'reject', 'more'] as const).map((kind) => ({ kind, label: LABELS[kind], value: encodeAction(kind, card, query) }));
}

export function cardTitle(item: { entityLabel: string | null; caption: string | null; id: number }): string {
  return item.entityLabel ?? (item.caption ? clip(item.caption, 80) : `Unlabelled image #${item.id}`);
}

/** One card per hit; `query` is what a verdict will record. */
export function hitCards(hits: readonly SearchHit[], collections: ReadonlyMap<number, Collection>, query: AskedQuery): Card[] {
  const best = hits[0]?.score ?? 0;
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
