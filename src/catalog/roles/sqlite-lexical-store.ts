/**
 * LexicalStore over the embedded SQLite catalogue: the catalogue's own putOcr, ocrOf and
 * lexicalMatches (without words), untouched.
 */
import type { Catalog } from '../catalog.js';
import type { LabelMatches, LexicalStore } from './lexical-store.js';

type SqliteLexicalSource = Pick<Catalog, 'putOcr' | 'ocrOf' | 'lexicalMatches'>;

export function sqliteLexicalStore(catalog: SqliteLexicalSource): LexicalStore {
  return {
    // `async` so that a synchronous throw arrives as a rejection, as it does from Postgres.
    putOcr: async (itemId, ocr) => catalog.putOcr(itemId, ocr),
    ocrOf: async (itemId) => catalog.ocrOf(itemId),
    matchLabels: async ({ identifiers, labels, collectionIds }): Promise<LabelMatches> => {
      if (collectionIds?.size === 0) return { identifiers: new Map(), named: new Map() };
      const found = catalog.lexicalMatches({ words: [], identifiers, labels, ...(collectionIds ? { collectionIds } : {}) });
      return {
        identifiers: new Map([...found.identifiers].map(([id, m]) => [id, { identifier: m.identifier, line: m.line }])),
        named: found.named,
      };
    },
  };
}
