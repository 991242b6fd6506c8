/** The ItemCatalog contract on SQLite and on every PostgreSQL engine (see catalog-engines.ts). */
import { onEveryEngine } from './catalog-engines.js';
import { itemCatalogContract } from './item-catalog.contract.js';

onEveryEngine('ItemCatalog', itemCatalogContract);
