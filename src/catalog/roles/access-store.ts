/**
 * Checks both catalogue engines make the same way for access and naming, so they refuse the same
 * input with the same error (the AccessCatalog of catalog.ts is served by sqlite-catalog.ts and
 * postgres/pg-access-store.ts; test/catalog/access-catalog.contract.ts runs it on both).
 */
import { ErrorCode, ReferentError } from '../../errors.js';

const MAX_NAME = 200;

/**
 * Collection names and entity labels are shown in chat cards and CLI output: printable and short.
 * Both engines check with this, so they refuse the same names (USAGE_INVALID).
 */
export function checkName(name: string, what: string): void {
  if (name.trim() === '' || name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ReferentError(ErrorCode.UsageInvalid, `A ${what} must be 1 to ${MAX_NAME} printable characters.`, { details: { [what]: name.slice(0, 50) } });
  }
}

export const checkCollectionName = (name: string): void => checkName(name, 'collection');

/** A write that names a collection there is none of (NOT_FOUND). */
export function unknownCollection(collectionId: number, cause?: unknown): ReferentError {
  return new ReferentError(ErrorCode.NotFound, `There is no collection ${collectionId}.`, { cause, details: { collectionId } });
}
