/** The FaceCatalog contract on SQLite and on every PostgreSQL engine (see catalog-engines.ts). */
import { onEveryEngine } from './catalog-engines.js';
import { faceCatalogContract } from './face-catalog.contract.js';

onEveryEngine('FaceCatalog', faceCatalogContract);
