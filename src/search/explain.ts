/**
 * Why a hit came back: which component carried it, and which part of its entity's reference matched
 * the query best (a description for words, a photo). Pure; reads the reference material it is given.
 */
import type { Components } from '../method/refine.js';
import type { FaceEvidence } from './face-search.js';
import type { ReferenceEntry } from '../references/references.js';
import { dot } from '../vectors.js';

export type Carrier = 'similarity' | 'entity' | 'feedback' | 'label' | 'face';

export interface Why {
  carriedBy: Carrier;
  entity: { id: number; label: string; linked: boolean } | null;
  description: { textId: number; text: string; score: number } | null;
  photo: { itemId: number; score: number } | null;
  feedback: 'confirmed' | 'rejected' | null;
  /** An identifier printed on the image (own) or on another photo of its entity, when the query named it. */
  label?: { identifier: string; line: string; own: boolean } | null;
  /** A face on the image matched a face of the posted photo, or a labelled person's face (src/search/face-search.ts). */
  face?: FaceEvidence | null;
  /** One plain sentence for a card or a terminal. */
  summary: string;
}

/**
 * The component with the larger share of the score. `entity` is what the referent adds beyond the
 * image's own similarity (refine.ts), so an image its own photo carried is carried by similarity.
 */
export function carrier(contributions: Components & { feedback: number }): Carrier {
  const extra: Array<[Carrier, number]> = [
    ['entity', contributions.entity],
    ['feedback', contributions.feedback],
  ];
  const [name, value] = extra.reduce((a, b) => (b[1] > a[1] ? b : a));
  return value > 0 && value > contributions.initial ? name : 'similarity';
}

function best<T>(items: readonly T[], score: (t: T) => number): { item: T; score: number } | null {
  let out: { item: T; score: number } | null = null;
  for (const item of items) {
    const s = score(item);
    if (!out || s > out.score) out = { item, score: s };
  }
  return out;
}

const round = (x: number) => Number(x.toFixed(3));

export function explain(args: {
  query: Float32Array;
  /** A photo with no text: it is explained by the entity's photos, never by its descriptions. */
  photoOnly: boolean;
  /** cos(query, v) for the entry's vectors when the caller has them batched; computed otherwise. */
  similarity?: (v: Float32Array) => number;
  initial: number;
  carriedBy: Carrier;
  entry: ReferenceEntry | undefined;
  linked: boolean;
  feedback: number;
  /** The photo itself is part of the reference: leave it out of "matched photo". */
  itemId: number;
}): Why {
  const { entry, query } = args;
  const sim = args.similarity ?? ((v: Float32Array) => dot(query, v));
  // A description next to a photo query is a cross-modal cosine the score does not use: naming the
  // "best" one would explain the hit by something that did not carry it.
  const description = entry && !args.photoOnly ? best(entry.material.texts, (t) => sim(t.vector)) : null;
  const photo = entry ? best(entry.material.images.filter((i) => i.itemId !== args.itemId), (i) => sim(i.vector)) : null;
  const why: Why = {
    carriedBy: args.carriedBy,
    entity: entry ? { id: entry.entity.id, label: entry.entity.label, linked: args.linked } : null,
    description: description && { textId: description.item.textId, text: description.item.body, score: round(description.score) },
    photo: photo && { itemId: photo.item.itemId, score: round(photo.score) },
    feedback: args.feedback > 0 ? 'confirmed' : args.feedback < 0 ? 'rejected' : null,
    summary: '',
  };
  why.summary = summarise(why, args.initial, args.photoOnly);
  return why;
}

function summarise(why: Why, initial: number, photoOnly: boolean): string {
  const parts: string[] = [];
  if (why.feedback === 'confirmed') parts.push('confirmed for a query like this');
  if (why.feedback === 'rejected') parts.push('marked "not it" for a query like this');
  if (why.entity) {
    parts.push(why.entity.linked ? `is ${why.entity.label}` : `looks like ${why.entity.label}`);
    if (why.carriedBy === 'entity') {
      // Name what the entity matched with: for a photo, its photos; for words, its descriptions first.
      if (why.description && !photoOnly) parts.push(`its description "${why.description.text}" matches`);
      else if (why.photo) parts.push(`its photo #${why.photo.itemId} matches (${why.photo.score.toFixed(2)})`);
    }
  }
  // A hit its label carried is explained by the label (the caller puts it first).
  if (why.carriedBy === 'similarity' || (parts.length === 0 && why.carriedBy !== 'label')) parts.push(`the image itself matches (${initial.toFixed(2)})`);
  return parts.join('; ');
}
