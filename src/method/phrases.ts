/**
 * Splitting a description into its details ("woman in a white cap, pink shoes and a grey backpack" →
 * "woman in a white cap", "pink shoes", "a grey backpack"). Descriptions are still split and their
 * details embedded and stored when they are written (references/embed-text.ts), but the refinement
 * no longer scores them: they did not earn their place (defaults.ts). Pure.
 *
 * Splits on clause punctuation (Latin and CJK: , ; 、 。 ， ； ！ ？ and a sentence-ending full stop, but
 * not the dot in "1.5 mm"), on line breaks, and on the joining words "and", "with", "plus" between
 * words. Japanese has no spaces, so its details are separated by 、 and 。 only.
 */

export const MAX_PHRASES = 16;
const MAX_PHRASE_CHARS = 200;

const CLAUSE = /[,;、。，；！？!?\n\r]+|\.(?=\s|$)|\s+(?:and|with|plus|&)\s+/iu;

/** The details of one text, trimmed, de-duplicated (case-insensitively), at most MAX_PHRASES. */
export function splitPhrases(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.split(CLAUSE)) {
    const phrase = raw.replace(/\s+/g, ' ').trim().slice(0, MAX_PHRASE_CHARS);
    const key = phrase.toLocaleLowerCase();
    // A lone stop-word or symbol is not a detail.
    if (!/[\p{L}\p{N}]/u.test(phrase) || seen.has(key)) continue;
    seen.add(key);
    out.push(phrase);
    if (out.length === MAX_PHRASES) break;
  }
  return out;
}
