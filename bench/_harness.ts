import fs from 'node:fs';
import { SqliteCatalog } from '../src/catalog/sqlite-catalog.js';
import { parseConfig } from '../src/config.js';
import type { Encoder } from '../src/encoder/encoder.js';
import { dataPaths, openReferent } from '../src/open.js';
import { searchItems } from '../src/search/search.js';
import { clusteredVectors } from './clustered.js';
const dir = '/tmp/harness';
const N = 30000, E = 3000;
const { vectors, queries } = clusteredVectors({ n: N, dim: 512, queries: 300, seed: 5 });
let qi = 0;
const encoder: Encoder = { modelId: 'bench/zero', dim: 512, displayName: 'zero', isDemo: false, async encodeTexts(t) { return t.map((_, i) => queries[(qi + i) % queries.length]!); }, async encodeImages() { return []; }, async close() {} };
if (!fs.existsSync(dir)) {
  const cat = SqliteCatalog.open(dataPaths(dir).catalog);
  cat.setModel({ modelId: 'bench/zero', dim: 512 });
  const c = cat.ensureCollection('c');
  vectors.forEach((v, i) => cat.addItem({ collectionId: c.id, hash: `h${i}`, mediaKey: `k${i}`, width: 1, height: 1, ...(i % 10 < 3 ? { entityLabel: `E${Math.floor(i / 10) % E}` } : {}) }, { modelId: 'bench/zero', data: v }));
  for (const id of cat.liveEntityIds()) cat.addText({ entityId: id, body: 'x', source: 'describe' }, { modelId: 'bench/zero', vector: queries[id % 300]!, phrases: [] });
  cat.close();
}
const config = parseConfig({ env: { REFERENT_DATA_DIR: dir, REFERENT_OFFLINE: '1', REFERENT_HNSW_EF_CONSTRUCTION: '48' } });
const r = await openReferent(config, { encoder });
const run = async (refine: boolean) => { for (let i = 0; i < 50; i++) { qi = i; await searchItems(r, { text: 'q', limit: 10, refine }, config); } const t = process.hrtime.bigint(); for (let i = 0; i < 300; i++) { qi = i; await searchItems(r, { text: 'q', limit: 10, refine }, config); } return Number(process.hrtime.bigint() - t) / 1e6 / 300; };
const p1 = await run(false), r1 = await run(true), p2 = await run(false), r2 = await run(true);
console.log(`plain ${p1.toFixed(2)}/${p2.toFixed(2)} ms; refined ${r1.toFixed(2)}/${r2.toFixed(2)} ms`);
await r.shutdown();
