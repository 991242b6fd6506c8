/** The MediaCatalog contract on SQLite and on every PostgreSQL engine (see catalog-engines.ts). */
import { onEveryEngine } from './catalog-engines.js';
import { mediaCatalogContract } from './media-catalog.contract.js';

onEveryEngine('MediaCatalog', mediaCatalogContract);
