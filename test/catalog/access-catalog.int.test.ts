/** The AccessCatalog contract on SQLite and on every PostgreSQL engine (see catalog-engines.ts). */
import { accessCatalogContract } from './access-catalog.contract.js';
import { onEveryEngine } from './catalog-engines.js';

onEveryEngine('AccessCatalog', accessCatalogContract);
