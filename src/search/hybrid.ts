/**
 * Hybrid search: the lexical side of a query fused with the vector and reference scores. CLIP-style
 * embeddings do not read "P-20417"; an identifier printed on a label is the strongest clue there is.
 *
 * The photos of an entity whose label the query is or contains come first ("P-20417", "p20417",
 * "P 20417"; OCR or not), then images whose own label carries an identifier the query names, then
 * the other images of their entities (a photo of the same part reads it), then the rest; within
 * each, by score. Each tier lifts its images by one more step than the tier below, a step being
 * wider than the whole ranking's spread, so the scores shown agree with the order. Word matches
 * (BM25 over captions, OCR text and the entity's descriptions, relative to the best) add up to
 * `words`. Images only the lexical side found join the ranking at the bottom of the vector
 * candidates before their bonus.
 * A query with neither identifiers nor matching words ranks exactly as before. Pure.
 */
import type { LexicalMatches } from '../catalog/catalog.js';
import { identifiersIn, labelKey } from '../ocr/identifiers.js';

export interface HybridWeights {
  /** The most word matches add (to the best match; the rest in proportion). */
  words: number;
  /** The margin between two tiers, beyond the ranking's spread. */
  gap: number;
}

/** Refined scores are in standard deviations. */
export const REFINED_HYBRID: HybridWeights = { words: 1, gap: 1 };
/** Plain scores are cosines (a spread of a few tenths): the same order, on that scale. */
export const PLAIN_HYBRID: HybridWeights = { words: 0.05, gap: 0.05 };

export interface LexicalEvidence {
  /**
   * The identifier and the OCR line it is on; `own` when this image's label reads it, else a photo of
   * its entity; `named` when the query named the image's entity (without `own`, line is then the
   * entity's label).
   */
  label: { identifier: string; line: string; own: boolean; named?: boolean } | null;
  words: { score: number; text: string } | null;
  bonus: number;
}

const STOPWORDS = new Set('a an and any are as at be by for from has have in is it its of on or show find me the this that to with which what where who one ones'.split(' '));

/** The words (for BM25) and the normalised identifiers of a query. */
export function queryTerms(text: string): { words: string[]; identifiers: string[] } {
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1 && !STOPWORDS.has(w));
  return { words: [...new Set(words)], identifiers: identifiersIn(text) };
}

/** Word runs of a query a label may be (at most this many words). */
const LABEL_WORDS = 4;

/**
 * What a query may be naming, as labelKey() forms labels: the whole query and every run of up to
 * LABEL_WORDS words in it ('show P 20417' → SHOW, P, 20417, SHOWP, P20417, SHOWP20417), and the
 * identifiers in it. Keys shorter than 2 characters name nothing.
 */
export function labelKeys(text: string): string[] {
  const words = text.split(/[\s,;:!?()"'“”]+/).filter(Boolean).slice(0, 64);
  const keys = new Set<string>([labelKey(text), ...identifiersIn(text)]);
  for (let i = 0; i < words.length; i++) {
    for (let n = 1; n <= LABEL_WORDS && i + n <= words.length; n++) keys.add(labelKey(words.slice(i, i + n).join(' ')));
  }
  return [...keys].filter((k) => k.length >= 2);
}

interface Rankable {
  itemId: number;
  entityId: number | null;
  final: number;
}

/**
 * Adds the lexical evidence to every candidate, brings in the images only the lexical side found
 * (made by `fresh` with the given base score), and re-sorts: by identifier tier, then by the fused
 * score (stable).
 */
export function fuseLexical<C extends Rankable>(
  ranked: readonly C[],
  matches: LexicalMatches,
  weights: HybridWeights,
  /** `linked`: the image's own entity; false when it is only the one its label names. */
  fresh: (itemId: number, entityId: number | null, base: number, linked: boolean) => C,
): Array<C & { lexical: LexicalEvidence | null }> {
  if (matches.items.size === 0) return ranked.map((c) => Object.assign(c, { lexical: null }));
  const entityLabel = new Map<number, { identifier: string; line: string }>();
  const entityWords = new Map<number, { score: number; text: string }>();
  for (const [itemId, info] of matches.items) {
    if (info.entityId === null) continue;
    const label = matches.identifiers.get(itemId);
    if (label && !entityLabel.has(info.entityId)) entityLabel.set(info.entityId, label);
    const w = matches.words.get(itemId);
    if (w && (entityWords.get(info.entityId)?.score ?? -1) < w.score) entityWords.set(info.entityId, w);
  }
  const present = new Set(ranked.map((c) => c.itemId));
  const base = ranked.length ? Math.min(...ranked.map((c) => c.final)) : 0;
  const all: C[] = [...ranked];
  // An image nobody labelled whose label reads an entity's name is taken to show that entity.
  const entityOf = (itemId: number, entityId: number | null) => entityId ?? matches.identifiers.get(itemId)?.entityId ?? null;
  for (const [itemId, info] of matches.items) if (!present.has(itemId)) all.push(fresh(itemId, entityOf(itemId, info.entityId), base, info.entityId !== null));
  for (const c of all) if (c.entityId === null) c.entityId = entityOf(c.itemId, null);
  const fused = all.map((c, order) => {
    const named = matches.named.get(c.itemId);
    const own = matches.identifiers.get(c.itemId);
    const shared = c.entityId !== null ? entityLabel.get(c.entityId) : undefined;
    // What the photo itself reads wins the wording; a name alone says "its label is".
    const label = own
      ? { identifier: own.identifier, line: own.line, own: true, ...(named ? { named: true } : {}) }
      : named
        ? { identifier: labelKey(named.label), line: named.label, own: false, named: true }
        : shared
          ? { identifier: shared.identifier, line: shared.line, own: false }
          : null;
    const ownWords = matches.words.get(c.itemId);
    const siblingWords = c.entityId !== null ? entityWords.get(c.entityId) : undefined;
    const words = ownWords && (!siblingWords || ownWords.score >= siblingWords.score) ? ownWords : (siblingWords ?? null);
    const wordBonus = words ? weights.words * words.score : 0;
    // Strictly: the photos of the entity the query names (a longer name first: "red cap" names
    // RED-cap before RED), then images whose own label carries the identifier, then the other
    // photos of their entities, then the rest.
    const tier = named ? 3 : own ? 2 : shared ? 1 : 0;
    const specificity = named ? labelKey(named.label).length : 0;
    return { candidate: c, label, words, wordBonus, order, tier, specificity };
  });
  const finals = all.map((c) => c.final);
  const step = Math.max(...finals) - Math.min(...finals) + weights.words + weights.gap;
  const lengths = [...new Set(fused.map((f) => f.specificity).filter((n) => n > 0))].sort((a, b) => a - b);
  for (const f of fused) {
    const level = f.tier + (f.specificity > 0 ? lengths.indexOf(f.specificity) : 0);
    const bonus = level * step + f.wordBonus;
    const lexical: LexicalEvidence | null = f.label || f.words ? { label: f.label, words: f.words, bonus } : null;
    Object.assign(f.candidate, { lexical, final: f.candidate.final + bonus });
  }
  fused.sort((a, b) => b.candidate.final - a.candidate.final || a.order - b.order);
  return fused.map((f) => f.candidate as C & { lexical: LexicalEvidence | null });
}
