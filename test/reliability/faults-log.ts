/**
 * Two checks the kill -9 harness (faults.ts) makes after every kill, on either engine:
 * - the index log is whole: its entries ascend, lastLogSeq is its last, a read from any point is the
 *   tail of a read from the start, and replaying it from nothing (adds and removals in order) gives
 *   exactly the live items with a vector: what any process, or a new one, rebuilds its index from;
 * - a forget that happened (acknowledged, or cut short after its commit) left nothing behind: no row
 *   of any table holds the forgotten label or its photos' media keys (read through the engine's
 *   storage reader, behind the product's back).
 */
import type { Catalog } from '../../src/catalog/catalog.js';
import type { Ack } from './faults.js';
import type { StorageReader } from './storage.js';
import { sweepStorage } from './storage-sweep.js';

export async function checkIndexLog(catalog: Catalog, modelId: string): Promise<string[]> {
  const failures: string[] = [];
  const log = await catalog.changesSince(0, modelId);
  const last = await catalog.lastLogSeq();
  for (let i = 1; i < log.length; i++) if (log[i]!.seq <= log[i - 1]!.seq) failures.push(`index log entry ${log[i]!.seq} follows ${log[i - 1]!.seq}`);
  if ((log.at(-1)?.seq ?? 0) !== last) failures.push(`lastLogSeq is ${last}, the log ends at ${log.at(-1)?.seq ?? 0}`);
  const middle = log[Math.floor(log.length / 2)]?.seq ?? 0;
  const tail = (await catalog.changesSince(middle, modelId)).map((c) => c.seq).join(',');
  if (tail !== log.filter((c) => c.seq > middle).map((c) => c.seq).join(',')) failures.push(`changesSince(${middle}) is not the tail of the log after it`);

  const replayed = new Set<number>();
  for (const c of log) {
    if (c.op === 'del') replayed.delete(c.itemId);
    else if (c.vector) replayed.add(c.itemId);
  }
  const live = new Set((await catalog.itemVectors(modelId, 0, 1_000_000)).map((v) => v.itemId));
  const missing = [...live].filter((id) => !replayed.has(id));
  const extra = [...replayed].filter((id) => !live.has(id));
  if (missing.length) failures.push(`live items ${missing.slice(0, 5).join(', ')} are not in the index log (a new process would not index them)`);
  if (extra.length) failures.push(`the index log still adds items ${extra.slice(0, 5).join(', ')}, which are not live`);
  return failures;
}

/** Forgets whose entity is gone, acknowledged or not: nothing of them in any table (one sweep for all). */
export async function checkForgottenTraces(reader: StorageReader, intents: readonly Ack[], live: (entityId: number) => Promise<boolean>): Promise<string[]> {
  const needles = [];
  for (const intent of intents) {
    if (await live(intent.entityId!)) continue;
    const of = `forgotten ${intent.label}`;
    needles.push({ what: `label of ${of}`, needle: intent.label! }, ...(intent.mediaKeys ?? []).map((k) => ({ what: `media key ${k.slice(0, 12)}… of ${of}`, needle: k })));
  }
  return needles.length ? (await sweepStorage(reader, needles)).map((r) => r.line) : [];
}
