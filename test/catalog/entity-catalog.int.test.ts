/** The EntityCatalog contract on SQLite and on every PostgreSQL engine (see catalog-engines.ts). */
import { onEveryEngine } from './catalog-engines.js';
import { entityCatalogContract } from './entity-catalog.contract.js';

onEveryEngine('EntityCatalog', entityCatalogContract);
