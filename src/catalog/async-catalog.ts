/**
 * The embedded engine behind the async seam. SQLite answers in the calling thread (better-sqlite3 is
 * synchronous and a query takes microseconds), so its catalogue is written as a SyncCatalog and
 * served here with every method returning a promise: a synchronous throw (a constraint, a locked or
 * full disk) arrives as a rejection, as it does from PostgreSQL.
 */
import type { Catalog, SyncCatalog } from './catalog.js';

export function asyncCatalog(sync: SyncCatalog): Catalog {
  const methods = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(sync, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let method = methods.get(prop);
      if (!method) {
        const fn = value as (...args: unknown[]) => unknown;
        method = async (...args: unknown[]) => fn.apply(target, args);
        methods.set(prop, method);
      }
      return method;
    },
  }) as unknown as Catalog;
}
