/**
 * The suite's eyes, on every engine: what the leak probes and the fault checks read behind the
 * product's back must see what is there, or their "found nothing" would prove nothing. A catalogue
 * holding one marked photo, description, verdict, OCR reading and audit row is read through each
 * engine's storage reader: every table's rows, the engine's own word indexes, the vectors, the audit
 * log, and the raw bytes (on PostgreSQL after VACUUM FULL, so only live rows' bytes are left: a
 * live row must still be found there).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describe as describeEntity, review } from '../../src/entities/entities.js';
import { ingest } from '../../src/ingest/ingest.js';
import { solidPng } from '../../src/image/image-io.js';
import { openReferent, type Referent } from '../../src/open.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { testEngines, type SuiteEngine } from './engines.js';
import { checkForgottenTraces, checkIndexLog } from './faults-log.js';
import type { StorageReader } from './storage.js';
import { sweepStorage } from './storage-sweep.js';

const MARKER = 'QZ51919K';
const LABEL = 'MK-5191';
const limits = { maxTextChars: 500 };

for (const kind of testEngines()) {
  describe(`reading the catalogue behind the product's back (${kind.name})`, () => {
    let engine: SuiteEngine;
    let dir: string;
    let referent: Referent;
    let reader: StorageReader;
    let itemId: number;
    let entityId: number;
    let mediaKey: string;

    beforeAll(async () => {
      engine = await kind.start();
      dir = tempDir();
      const dataDir = path.join(dir, 'data');
      referent = await openReferent(testConfig(dataDir, engine.env));
      const photo = await solidPng(30, 20, [200, 40, 40]);
      await ingest(referent, { sources: [{ path: '', bytes: photo, origin: 'm1', caption: `a red part ${MARKER}`, entity: LABEL }], problems: [] }, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
      const entity = (await referent.catalog.findEntities(LABEL))[0]!;
      const item = (await referent.catalog.entityItems(entity.id))[0]!;
      [itemId, entityId, mediaKey] = [item.id, entity.id, item.mediaKey];
      await describeEntity(referent, { label: LABEL, text: `stamped ${MARKER}` }, limits);
      await review(referent, { query: `red ${MARKER}`, itemId, verdict: 'confirm', user: 'U1' }, limits);
      await referent.catalog.putOcr(itemId, { modelId: 'stand-in', lines: [{ text: `LOT ${MARKER}`, confidence: 0.9, box: [[0, 0], [9, 0], [9, 9], [0, 9]] }], identifiers: [MARKER] });
      await referent.catalog.addAudit({ user: 'slack:U1', platform: 'slack', scope: 'slack:T1/C1', collectionId: item.collectionId, query: `find ${MARKER}` });
      reader = await engine.reader(dataDir);
    }, 60_000);
    afterAll(async () => {
      await reader?.close();
      await referent?.shutdown();
      await engine?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('finds a string in every table that holds it, and names the column', async () => {
      const found = (await sweepStorage(reader, [{ what: 'marker', needle: MARKER }])).map((r) => r.line.split(' ')[0]);
      for (const column of ['items.caption', 'texts.body', 'feedback.query', 'item_ocr.body', 'item_identifiers.ident', 'audit.query']) expect(found).toContain(column);
      const allowed = await sweepStorage(reader, [{ what: 'marker', needle: MARKER, allow: (table) => table !== 'audit' }]);
      expect(allowed.map((r) => r.line.split(' ')[0])).toEqual(['audit.query']);
    });

    it('reads the audit log, the vectors and the word indexes', async () => {
      const last = await reader.lastAuditId();
      expect((await reader.auditSince(last - 1)).map((r) => [r.user, r.scope, r.query])).toEqual([['slack:U1', 'slack:T1/C1', `find ${MARKER}`]]);
      expect(await reader.auditSince(last)).toEqual([]);
      const owners = await reader.vectorOwners();
      expect(owners).toContainEqual({ kind: 'item', id: itemId });
      expect(new Set(owners.map((o) => o.kind))).toEqual(new Set(['item', 'text', 'phrase', 'feedback']));
      expect((await reader.lexicalHits(MARKER)).length).toBeGreaterThan(0);
      expect(await reader.lexicalHits('nowhere0000')).toEqual([]);
    });

    it('finds a live entity as a trace when told it was forgotten, and a whole index log as whole', async () => {
      const intent = { op: 'forget-intent', label: LABEL, entityId, itemIds: [itemId], mediaKeys: [mediaKey] };
      expect((await checkForgottenTraces(reader, [intent], async () => false)).join('\n')).toMatch(/entities\.label still holds the label of forgotten MK-5191/);
      expect(await checkForgottenTraces(reader, [intent], async () => true)).toEqual([]);
      expect(await checkIndexLog(referent.catalog, referent.encoder.modelId)).toEqual([]);
    });

    // Last: on PostgreSQL it rewrites the tables first.
    it('finds a live row in the raw bytes of the storage', async () => {
      const raw = await reader.rawTraces([{ what: 'marker', needle: MARKER }]);
      expect(raw.unread).toBeUndefined();
      expect(raw.lines.length).toBeGreaterThan(0);
      expect((await reader.rawTraces([{ what: 'nothing', needle: 'NOWHERE0000' }])).lines).toEqual([]);
    });
  });
}
