/**
 * Limits both catalogue engines apply to lexical matching (LexicalCatalog.lexicalMatches of
 * catalog.ts, served by sqlite-lexicon.ts and postgres/pg-lexical-store.ts), so a query reaches the
 * same images on either.
 */

/** Images one identifier may reach (a label printed on every photo of a bin is still one answer). */
export const PER_IDENTIFIER = 200;
/** Images of one entity that a label or description match reaches. */
export const PER_ENTITY = 50;
