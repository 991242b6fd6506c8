/**
 * Writing the engines bench's catalogue through the product's write path, on either engine: one
 * `Catalog.addItem(item, vector)` per image (one transaction with its entity link and index-log
 * entry, as ingest writes), then the entities' descriptions with `Catalog.addText`. The ingest rate
 * is taken per tenth of the items (it falls as the catalogue grows); with `writers` > 1, the last
 * `tail` items are written by that many concurrent writers, and compared with the `tail` items
 * written just before them by one.
 */
import type { Catalog } from '../src/catalog/catalog.js';
import type { Progress } from '../src/progress.js';
import { COLLECTION_SHARES, type EnginePlan, itemVector } from './engine-data.js';

export interface IngestOptions {
  modelId: string;
  /** Concurrent writers for the last `tail` items (1: every item by one writer). */
  writers: number;
  tail: number;
}

export interface IngestReport {
  /** Catalogue ids of the collections, by collection index. */
  collectionIds: number[];
  /** Catalogue id of each item (by index) and the way back. */
  itemIds: number[];
  indexOf: Map<number, number>;
  /** Catalogue id of each entity, by entity index (0 for one with no photo). */
  entityIds: number[];
  /** Items written by one writer: how many, how long, and the rate in each tenth of them. */
  single: { items: number; seconds: number; perSecond: number; tenths: number[] };
  /** The last `tail` items by `writers` writers, and the `tail` before them by one. */
  concurrent: { writers: number; items: number; perSecond: number; singleBeforePerSecond: number } | null;
  texts: { count: number; seconds: number; perSecond: number };
}

export async function writeCatalogue(catalog: Catalog, plan: EnginePlan, o: IngestOptions, progress: Progress): Promise<IngestReport> {
  const collectionIds: number[] = [];
  for (const c of COLLECTION_SHARES.keys()) collectionIds.push((await catalog.ensureCollection(`bench-${c}`, 'part')).id);
  await catalog.setModel({ modelId: o.modelId, dim: plan.dim });
  const itemIds = new Array<number>(plan.items).fill(0);
  const entityIds = new Array<number>(plan.entities.length).fill(0);
  const add = async (i: number): Promise<void> => {
    const e = plan.entityOf[i]!;
    const item = await catalog.addItem(
      { collectionId: collectionIds[plan.collectionOf[i]!]!, hash: `h${i}`, mediaKey: `m${i}`, width: 640, height: 480, entityLabel: e >= 0 ? plan.entities[e]!.label : null },
      { modelId: o.modelId, data: itemVector(plan, i) },
    );
    itemIds[i] = item.id;
    if (e >= 0) entityIds[e] = item.entityId!;
  };

  const tail = o.writers > 1 ? Math.min(o.tail, Math.floor(plan.items / 4)) : 0;
  const singleItems = plan.items - tail;
  // Time at the start of each tenth of the single-writer items, and at the end.
  const marks = Array.from({ length: 11 }, (_, t) => Math.round((t * singleItems) / 10));
  const at = new Map<number, number>();
  progress.start('ingest: Catalog.addItem, 1 writer', plan.items, 'items');
  const started = performance.now();
  for (let i = 0; i < singleItems; i++) {
    if (marks.includes(i)) at.set(i, performance.now());
    if (i === singleItems - tail) at.set(-1, performance.now());
    await add(i);
    progress.tick(1);
  }
  const singleEnd = performance.now();
  at.set(singleItems, singleEnd);
  const tenths = marks.slice(1).map((m, t) => (m - marks[t]!) / ((at.get(m)! - at.get(marks[t]!)!) / 1000));

  let concurrent: IngestReport['concurrent'] = null;
  if (tail > 0) {
    let next = singleItems;
    const writer = async (): Promise<void> => {
      while (next < plan.items) {
        await add(next++);
        progress.tick(1);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: o.writers }, writer));
    const seconds = (performance.now() - t0) / 1000;
    concurrent = { writers: o.writers, items: tail, perSecond: tail / seconds, singleBeforePerSecond: tail / ((singleEnd - at.get(-1)!) / 1000) };
  }
  progress.stop();
  const singleSeconds = (singleEnd - started) / 1000;

  const texts = plan.entities.reduce((n, e, i) => n + (entityIds[i] ? e.descriptions.length : 0), 0);
  progress.start('descriptions: Catalog.addText', texts, 'texts');
  const t0 = performance.now();
  for (const [e, entity] of plan.entities.entries()) {
    const entityId = entityIds[e]!;
    if (!entityId) continue;
    for (const d of entity.descriptions) {
      await catalog.addText({ entityId, body: d.body, source: 'describe' }, { modelId: o.modelId, vector: d.vector, phrases: d.phrases });
      progress.tick(1);
    }
  }
  progress.stop();
  const textSeconds = (performance.now() - t0) / 1000;

  return {
    collectionIds,
    itemIds,
    indexOf: new Map(itemIds.map((id, i) => [id, i])),
    entityIds,
    single: { items: singleItems, seconds: singleSeconds, perSecond: singleItems / singleSeconds, tenths },
    concurrent,
    texts: { count: texts, seconds: textSeconds, perSecond: texts / textSeconds },
  };
}
