/**
 * Builds the demo data folder (used by `npm run demo` and the journey tests): the synthetic
 * gallery, its collections with their kinds, the photos, and the entities' descriptions. No
 * server: it only needs the core.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProgressBar } from '../../adapters/cli/progress-bar.js';
import type { Config } from '../../src/config.js';
import { describe } from '../../src/entities/entities.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent } from '../../src/open.js';
import { silentProgress } from '../../src/progress.js';
import { makeDemoGallery, type DemoGallery } from '../make-demo-gallery.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const DEMO_MODEL = path.join(root, 'test/fixtures/tiny-clip');

/** Builds the demo data folder: collections with their kinds, the photos, the descriptions. */
export async function buildDemo(config: Config, galleryDir: string, log: (line: string) => void = () => {}, quiet = false): Promise<DemoGallery> {
  const progress = () => (quiet ? silentProgress : createProgressBar());
  const gallery = await makeDemoGallery(galleryDir);
  const referent = await openReferent(config, { progress: progress() });
  try {
    for (const c of gallery.collections) {
      const collection = await referent.catalog.ensureCollection(c.name, c.kind);
      // A demo of person search: enabled here (every query is still audited). A real site's admin
      // enables person collections deliberately.
      if (c.kind === 'person') await referent.catalog.setCollectionEnabled(collection.id, true);
    }
    const sources = await readSources(path.join(galleryDir, gallery.manifest));
    const summary = await ingest(referent, sources, { collection: 'parts', batchSize: config.batchSize, maxImageBytes: config.maxImageBytes, maxTextChars: config.maxTextChars, progress: progress() });
    if (summary.failed.length > 0) throw new Error(`the demo gallery did not ingest cleanly: ${summary.failed.map((f) => `${f.origin}: ${f.reason}`).join('; ')}`);
    for (const entity of gallery.entities) {
      for (const text of entity.descriptions) await describe(referent, { label: entity.label, text, collection: entity.collection, author: 'demo' }, config);
    }
    log(`Demo gallery: ${summary.added} photos in ${gallery.collections.map((c) => `${c.name} (${c.kind})`).join(' and ')}, ${gallery.entities.length} entities with descriptions.`);
    return gallery;
  } finally {
    await referent.shutdown();
  }
}

