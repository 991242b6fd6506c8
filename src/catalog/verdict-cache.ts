/**
 * Live review verdicts kept in memory for the refined search, which asks for the verdicts on ~150
 * candidates per query. Reading them from SQLite each time cost ~0.1 ms, more right after the
 * encoder has run (cold caches). The cache is checked cheaply before use, against the catalogue's
 * change stamp (anything committed by any connection); only when it moved is a fingerprint of the
 * live verdicts read, and only when that moved are they reloaded. The
 * fingerprint (largest id, number of live verdicts, last entity-log seq) changes on every add, undo
 * and forget, and on every link: an addition raises the largest id, an undo lowers the count, and a
 * forget or a link moves the entity log. The entity log is what makes it safe: forgetting deletes
 * verdict rows, SQLite hands a deleted largest id out again, so a forget followed by a new verdict
 * leaves the largest id and the count as they were; and whether a verdict speaks for an entity
 * depends on its photo's link, which a link or unlink changes without touching a verdict.
 */
import type { VerdictKind } from './catalog.js';

export interface CachedVerdict {
  id: number;
  itemId: number;
  /** The entity when the verdict was given on one of its own photos (it then speaks for the entity). */
  entityId: number | null;
  verdict: VerdictKind;
  vector: Float32Array;
}

export interface VerdictSource {
  /** Changes whenever anything is committed. */
  stamp(): string;
  fingerprint(): string;
  /** Every live verdict with its query vector for the model. */
  loadAll(modelId: string): CachedVerdict[];
}

export class VerdictCache {
  private byItem = new Map<number, CachedVerdict[]>();
  private byEntity = new Map<number, Array<CachedVerdict & { entityId: number }>>();
  private modelId: string | null = null;
  private stamp = '';
  private fingerprint = '';

  constructor(private readonly source: VerdictSource) {}

  verdictsOn(itemIds: readonly number[], modelId: string): CachedVerdict[] {
    this.refresh(modelId);
    if (this.byItem.size === 0) return [];
    return itemIds.flatMap((id) => this.byItem.get(id) ?? []);
  }

  entityVerdictsOn(entityIds: readonly number[], modelId: string): Array<CachedVerdict & { entityId: number }> {
    this.refresh(modelId);
    if (this.byEntity.size === 0) return [];
    return [...new Set(entityIds)].flatMap((id) => this.byEntity.get(id) ?? []);
  }

  private refresh(modelId: string): void {
    const stamp = this.source.stamp();
    if (stamp === this.stamp && modelId === this.modelId) return;
    const fingerprint = this.source.fingerprint();
    this.stamp = stamp;
    if (fingerprint === this.fingerprint && modelId === this.modelId) return;
    this.byItem = new Map();
    this.byEntity = new Map();
    for (const v of this.source.loadAll(modelId)) {
      push(this.byItem, v.itemId, v);
      if (v.entityId !== null) push(this.byEntity, v.entityId, { ...v, entityId: v.entityId });
    }
    this.fingerprint = fingerprint;
    this.modelId = modelId;
  }
}

function push<T>(map: Map<number, T[]>, key: number, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
