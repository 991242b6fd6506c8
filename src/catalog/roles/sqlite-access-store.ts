/**
 * AccessStore over the embedded SQLite catalogue: a thin async face on its synchronous methods, so
 * code written against the role runs unchanged on one machine. SqliteCatalog itself is untouched;
 * the little that is added here is what the role promises and SQLite leaves implicit.
 */
import type { AccessCatalog, Catalog } from '../catalog.js';
import { type AccessStore, unknownCollection } from './access-store.js';

type SqliteAccessSource = Pick<AccessCatalog, 'grant' | 'revoke' | 'listGrants' | 'grantedCollectionIds' | 'setCollectionEnabled' | 'addAudit' | 'listAudit'> &
  Pick<Catalog, 'ensureCollection' | 'findCollection' | 'listCollections'>;

export function sqliteAccessStore(catalog: SqliteAccessSource): AccessStore {
  return {
    // `async` so that a synchronous throw (a bad name, a locked file) arrives as a rejection, as it does from Postgres.
    ensureCollection: async (name, kind) => catalog.ensureCollection(name, kind),
    findCollection: async (name) => catalog.findCollection(name),
    listCollections: async () => catalog.listCollections(),
    setCollectionEnabled: async (id, enabled) => catalog.setCollectionEnabled(id, enabled),
    grant: async (grant) => {
      try {
        return catalog.grant(grant);
      } catch (err) {
        // foreign_keys is on: the only foreign key of a grant is its collection.
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw unknownCollection(grant.collectionId, err);
        throw err;
      }
    },
    revoke: async (grant) => catalog.revoke(grant),
    listGrants: async (collectionId) => catalog.listGrants(collectionId),
    // SQLite happens to return them in key order; the role promises it.
    grantedCollectionIds: async (scope) => catalog.grantedCollectionIds(scope).sort((a, b) => a - b),
    addAudit: async (entry) => catalog.addAudit(entry),
    listAudit: async (limit) => catalog.listAudit(limit),
  };
}
