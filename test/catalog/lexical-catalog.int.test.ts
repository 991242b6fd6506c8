/** The LexicalCatalog contract on SQLite and on every PostgreSQL engine (see catalog-engines.ts). */
import { onEveryEngine } from './catalog-engines.js';
import { lexicalCatalogContract } from './lexical-catalog.contract.js';

onEveryEngine('LexicalCatalog', lexicalCatalogContract);
