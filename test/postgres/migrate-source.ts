/**
 * For the `referent migrate` tests: a data folder whose SQLite catalogue has rows in every table,
 * written through the product's own paths (ingest, describe, review, forget, and the catalogue's
 * grants, audit, OCR readings, platform files), a digest of every file of a folder, and the reads
 * that say what a catalogue answers (compared between the SQLite original and its PostgreSQL copy).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../../src/catalog/catalog.js';
import { FACE_DIM } from '../../src/catalog/roles/face-store.js';
import { describe as describeEntity, forget, review, undoReview } from '../../src/entities/entities.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { labelKey } from '../../src/ocr/identifiers.js';
import { openReferent } from '../../src/open.js';
import { makeColourGallery, testConfig } from '../support/fixtures.js';

export const IDENTIFIER = 'X9220B';
const limits = { maxTextChars: 500 };

export interface SourceFacts {
  dataDir: string;
  /** Every item id ever given out (live, removed and forgotten). */
  itemIds: number[];
  entityIds: number[];
  verdictIds: number[];
  labels: string[];
  /** The entity whose photo carries IDENTIFIER; its label is used as a label query. */
  identified: string;
  mediaKeys: string[];
  removedItem: number;
  forgotten: string[];
}

/**
 * Builds the data folder under `dir` and closes it cleanly (no -wal left beside the catalogue). Every
 * table of the catalogue ends with at least one row; a forget through the catalogue alone (as a crash
 * between its commit and the file deletions leaves it) keeps a media_trash row.
 */
export async function makeSourceFolder(dir: string): Promise<SourceFacts> {
  const dataDir = path.join(dir, 'data');
  const referent = await openReferent(testConfig(dataDir, { REFERENT_OCR: 'false' }));
  try {
    const manifest = await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'blue', 'green', 'yellow', 'white']);
    const summary = await ingest(referent, await readSources(manifest), { collection: 'parts', batchSize: 8, maxImageBytes: 1 << 20, maxTextChars: 500 });
    if (summary.added !== 10) throw new Error(`ingest added ${summary.added} of 10`);
    const { catalog } = referent;
    const parts = (await catalog.findCollection('parts'))!;
    const byLabel = async (prefix: string) => [...(await catalog.getItems(range(1, 10))).values()].find((i) => i.entityLabel?.startsWith(prefix))!;
    const red = await byLabel('RED-');
    const blue = await byLabel('BLUE-');
    const green = await byLabel('GREEN-');
    const yellow = await byLabel('YELLOW-');
    const white = await byLabel('WHITE-');

    await describeEntity(referent, { label: red.entityLabel!, text: 'a hex bolt, zinc plated, M8 thread', author: 'U1' }, limits);
    const confirmed = await review(referent, { query: 'shiny red bolt', itemId: red.id, verdict: 'confirm', user: 'U2' }, limits);
    const rejected = await review(referent, { query: 'a blue washer', itemId: blue.id, verdict: 'reject', user: 'U3' }, limits);
    const undone = await review(referent, { query: 'green thing', itemId: green.id, verdict: 'confirm', user: 'U4' }, limits);
    await undoReview(referent, undone.verdict.id);
    await catalog.grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1' });
    await catalog.grant({ collectionId: parts.id, platform: 'teams', workspace: 'tenant', channel: 'conv-1' });
    await catalog.addAudit({ user: 'U5', platform: 'slack', scope: 'T1/C1', collectionId: parts.id, query: 'who wears a red cap' });
    await catalog.putOcr(green.id, {
      modelId: 'test-ocr',
      lines: [
        { text: 'LOT X9-220B', confidence: 0.93, box: [[0, 0], [40, 0], [40, 8], [0, 8]] },
        { text: 'ZINC PLATED', confidence: 0.81, box: [[0, 10], [40, 10], [40, 18], [0, 18]] },
      ],
      identifiers: [IDENTIFIER],
    });
    await catalog.setPlatformFile({ platform: 'slack', workspace: 'T1', mediaKey: red.mediaKey }, 'F0RED');
    await addFaces(catalog, red.mediaKey);
    await catalog.removeItem(yellow.id);
    await forget(referent, white.entityLabel!, 'parts');
    // What a forget leaves queued when the process dies before deleting the files.
    await catalog.forgetEntity(blue.entityId!);

    const items = await catalog.getItems(range(1, 10));
    return {
      dataDir,
      itemIds: range(1, 10),
      entityIds: range(1, 10),
      verdictIds: [confirmed.verdict.id, rejected.verdict.id, undone.verdict.id],
      labels: [...items.values()].map((i) => i.entityLabel!).filter(Boolean),
      identified: green.entityLabel!,
      mediaKeys: [red.mediaKey, blue.mediaKey, green.mediaKey, white.mediaKey],
      removedItem: yellow.id,
      forgotten: [white.entityLabel!, blue.entityLabel!],
    };
  } finally {
    await referent.shutdown();
  }
}

/** A person collection with faces on, and a photo in it with two faces (synthetic descriptors: the catalogue stores what it is given). */
async function addFaces(catalog: Catalog, mediaKey: string): Promise<void> {
  const model = (await catalog.getModel())!;
  const staff = await catalog.ensureCollection('staff', 'person');
  await catalog.setFacesEnabled(staff.id, true);
  const [source] = await catalog.itemVectors(model.modelId, 0, 1);
  const item = await catalog.addItem({ collectionId: staff.id, hash: 'staff-photo', mediaKey, width: 640, height: 480 }, { modelId: model.modelId, data: source!.vector });
  const descriptor = (axis: number) => Float32Array.from({ length: FACE_DIM }, (_, i) => (i === axis ? 0.6 : i === axis + 1 ? 0.8 : 0));
  await catalog.putFaces(item.id, 'face-model@1', [
    { box: { x: 12.5, y: 30.25, width: 96, height: 120.125 }, score: 0.9871234567, descriptor: descriptor(3) },
    { box: { x: 300, y: 41, width: 80.75, height: 99 }, score: 0.61, descriptor: descriptor(40) },
  ]);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Every file below `dir` with its SHA-256, by relative path. */
export function folderDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** What a catalogue answers about the source's data: the same object from both engines means the same catalogue. */
export async function catalogueReads(c: Catalog, facts: SourceFacts): Promise<Record<string, unknown>> {
  const model = await c.getModel();
  const modelId = model!.modelId;
  const live = await c.liveEntityIds();
  const entities = [];
  for (const id of facts.entityIds) entities.push({ entity: await c.getEntity(id), items: await c.entityItems(id), material: await c.entityMaterial(id, modelId) });
  const media = [];
  for (const key of facts.mediaKeys) {
    media.push({ live: await c.isMediaLive(key), collections: await c.mediaCollections(key), slack: await c.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: key }) });
  }
  const ocr = [];
  for (const id of facts.itemIds) ocr.push(await c.ocrOf(id));
  return {
    model,
    collections: await c.listCollections(),
    grants: await c.listGrants(),
    granted: await c.grantedCollectionIds({ platform: 'teams', workspace: 'tenant', channel: 'conv-1' }),
    audit: await c.listAudit(100),
    items: await c.getItems(facts.itemIds),
    counts: { items: await c.countItems(), entities: await c.countEntities(), vectors: await c.countItemVectors(modelId), ocr: await c.countOcr() },
    live,
    entities,
    found: await Promise.all([...facts.labels, ...facts.forgotten].map((l) => c.findEntities(l))),
    verdicts: await Promise.all(facts.verdictIds.map((id) => c.getVerdict(id))),
    verdictsOn: await c.verdictsOn(facts.itemIds, modelId),
    entityVerdictsOn: await c.entityVerdictsOn(live, modelId),
    byIdentifier: await c.lexicalMatches({ words: [], identifiers: [IDENTIFIER] }),
    byLabel: await c.lexicalMatches({ words: [], identifiers: [], labels: [labelKey(facts.identified)] }),
    ocr,
    changes: await c.changesSince(0, modelId),
    lastLogSeq: await c.lastLogSeq(),
    entityChanges: await c.entityChangesSince(0),
    lastEntitySeq: await c.lastEntitySeq(),
    itemVectors: await c.itemVectors(modelId, 0, 1000),
    withoutVector: await c.itemsWithoutVector(modelId, 100),
    textsWithoutVector: await c.textsWithoutVector(modelId, 100),
    media,
    faces: await Promise.all((await c.faceCollectionIds()).map(async (id) => ({ id, counts: await c.countFaces(id), faces: await c.facesIn(id, 0, 100) }))),
  };
}
