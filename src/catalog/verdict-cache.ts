/**
 * Live review verdicts kept in memory for the refined search, which asks for the verdicts on ~150
 * candidates per query. Reading them from SQLite each time cost ~0.1 ms, more right after the
 * encoder has run (cold caches). The cache is checked cheaply before use, against the catalogue's
 * change stamp (anything committed by any connection); only when it moved is a fingerprint of the
 * live verdicts read, and only when that moved are they reloaded. The
 * fingerprint (largest id, number of live verdicts) changes on every add, undo and forget: an
 * addition raises the largest id, a removal lowers the count.
 */
import type { VerdictKind } from './catalog.js';

export interface CachedVerdict {
  id: number;
  itemId: number;
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
  private modelId: string | null = null;
  private stamp = '';
  private fingerprint = '';

  constructor(private readonly source: VerdictSource) {}

  verdictsOn(itemIds: readonly number[], modelId: string): CachedVerdict[] {
    this.refresh(modelId);
    if (this.byItem.size === 0) return [];
    return itemIds.flatMap((id) => this.byItem.get(id) ?? []);
  }

  private refresh(modelId: string): void {
    const stamp = this.source.stamp();
    if (stamp === this.stamp && modelId === this.modelId) return;
    const fingerprint = this.source.fingerprint();
    this.stamp = stamp;
    if (fingerprint === this.fingerprint && modelId === this.modelId) return;
    this.byItem = new Map();
    for (const v of this.source.loadAll(modelId)) {
      const list = this.byItem.get(v.itemId);
      if (list) list.push(v);
      else this.byItem.set(v.itemId, [v]);
    }
    this.fingerprint = fingerprint;
    this.modelId = modelId;
  }
}
