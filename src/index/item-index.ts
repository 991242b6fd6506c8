/**
 * The image index of one model: an HNSW cache of the catalogue's item vectors.
 * Writes go to SQLite first; the index follows by replaying the catalogue's index log past its
 * watermark (`catchUp`). On open, a snapshot is loaded and replayed; a missing, corrupt or
 * inconsistent snapshot is rebuilt from the catalogue (with progress), so a crash never loses an
 * acknowledged item and the index always agrees with the catalogue.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ItemCatalog } from '../catalog/catalog.js';
import type { CandidateVectors } from '../method/refine.js';
import { ErrorCode, isReferentError } from '../errors.js';
import { silentProgress, type Progress } from '../progress.js';
import { HnswIndex } from './hnsw-index.js';
import type { ImageIndex, ItemHit } from './image-index.js';
import { Int8VectorStore } from './int8-store.js';
import type { VectorHit } from './vector-index.js';

export type { ItemHit } from './image-index.js';

export interface HnswParams {
  m: number;
  efConstruction: number;
  efSearch: number;
}

export interface ItemIndexOptions {
  /** The slice it follows: the item vectors and the index log. */
  catalog: Pick<ItemCatalog, 'itemVectors' | 'countItemVectors' | 'lastLogSeq' | 'changesSince' | 'changeStamp'>;
  /** Folder holding the snapshots of this data folder (index-data/index). */
  dir: string;
  modelId: string;
  dim: number;
  hnsw: HnswParams;
  progress?: Progress;
}

export interface OpenReport {
  /** 'snapshot': loaded and replayed; 'rebuilt': built from the catalogue; 'database': the database searches (nothing built here). */
  source: 'snapshot' | 'rebuilt' | 'database';
  /** Why a rebuild happened (missing, corrupt, count mismatch …). */
  reason?: string;
  replayed: number;
  count: number;
}

/** Every live item vector of a model, read a page at a time (a catalogue may hold millions). */
export async function* allItemVectors(
  catalog: Pick<ItemCatalog, 'itemVectors'>,
  modelId: string,
  pageSize = 2000,
): AsyncGenerator<{ itemId: number; collectionId: number; vector: Float32Array }> {
  for (let after = 0; ; ) {
    const page = await catalog.itemVectors(modelId, after, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    after = page.at(-1)!.itemId;
  }
}

/** A file-system-safe, collision-free folder name for a model id. */
export function modelSlug(modelId: string): string {
  const readable = modelId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return `${readable}-${createHash('sha256').update(modelId).digest('hex').slice(0, 8)}`;
}

export class ItemIndex implements ImageIndex {
  private readonly collectionOf = new Map<number, number>();
  /** Compact copies of the vectors, for re-ranking (hnswlib hands its own out slowly). */
  private readonly vectors: Int8VectorStore;
  /** Watermark of the last snapshot written or loaded; saving again at the same one is skipped. */
  private savedSeq: number;
  /** The catalogue's change stamp when the log was last read. */
  private stamp = '';
  private saving = false;

  private constructor(
    private readonly options: ItemIndexOptions,
    private hnsw: HnswIndex,
    private watermarkSeq: number,
  ) {
    this.savedSeq = watermarkSeq;
    this.vectors = new Int8VectorStore(options.dim, Math.max(1024, hnsw.size()));
  }

  /** Loads the snapshot (or rebuilds), replays newer catalogue changes and checks the count. */
  static async open(options: ItemIndexOptions): Promise<{ index: ItemIndex; report: OpenReport }> {
    const base = ItemIndex.snapshotBase(options);
    let reason: string | undefined;
    try {
      const { index, watermark } = await HnswIndex.loadSnapshot(base, { dim: options.dim, efSearch: options.hnsw.efSearch });
      if (watermark > await options.catalog.lastLogSeq()) throw new Error('snapshot is newer than the catalogue');
      const itemIndex = new ItemIndex(options, index, watermark);
      await itemIndex.loadCollections();
      const replayed = await itemIndex.catchUp();
      const expected = await options.catalog.countItemVectors(options.modelId);
      if (index.size() === expected) return { index: itemIndex, report: { source: 'snapshot', replayed, count: expected } };
      reason = `count mismatch: index ${index.size()}, catalogue ${expected}`;
    } catch (err) {
      reason = isReferentError(err) ? String(err.details.reason ?? err.message) : err instanceof Error ? err.message : String(err);
    }
    const index = await ItemIndex.rebuild(options);
    return { index, report: { source: 'rebuilt', reason, replayed: 0, count: index.size() } };
  }

  /** Builds a fresh index from every live item vector in the catalogue and saves a snapshot. */
  static async rebuild(options: ItemIndexOptions): Promise<ItemIndex> {
    const { catalog, modelId, dim, hnsw } = options;
    const progress = options.progress ?? silentProgress;
    // Read the watermark first: anything committed during the build is replayed afterwards.
    const watermark = await catalog.lastLogSeq();
    const total = await catalog.countItemVectors(modelId);
    const index = HnswIndex.create({ dim, capacity: Math.max(total, 1024), m: hnsw.m, efConstruction: hnsw.efConstruction, efSearch: hnsw.efSearch });
    const itemIndex = new ItemIndex(options, index, watermark);
    if (total > 0) progress.start('Rebuilding the image index', total, 'items');
    for await (const { itemId, collectionId, vector } of allItemVectors(catalog, modelId)) {
      index.add(String(itemId), vector);
      itemIndex.collectionOf.set(itemId, collectionId);
      itemIndex.vectors.set(itemId, vector);
      progress.tick(1);
    }
    if (total > 0) progress.stop();
    await itemIndex.catchUp();
    // The snapshot only spares the next start a rebuild: on a full disk, serve from memory and let
    // a later save (upkeep, shutdown) write it.
    await itemIndex.save(true).catch((err: unknown) => {
      if (!isReferentError(err, ErrorCode.DiskFull)) throw err;
    });
    return itemIndex;
  }

  private static snapshotBase(options: ItemIndexOptions): string {
    return path.join(options.dir, modelSlug(options.modelId), 'items');
  }

  private async loadCollections(): Promise<void> {
    // Live items' collections (for filtering) and compact vectors (for re-ranking), at the snapshot's watermark or later.
    for await (const { itemId, collectionId, vector } of allItemVectors(this.options.catalog, this.options.modelId)) {
      this.collectionOf.set(itemId, collectionId);
      this.vectors.set(itemId, vector);
    }
  }

  /**
   * Applies catalogue changes past the watermark; returns how many were applied. Idempotent.
   * While a snapshot is being written the graph is read-only, so changes wait for the next call.
   */
  async catchUp(): Promise<number> {
    // Read before the log, so a commit that lands in between moves it again and is read next time.
    const stamp = await this.options.catalog.changeStamp();
    if (this.saving || stamp === this.stamp) return 0;
    const changes = await this.options.catalog.changesSince(this.watermarkSeq, this.options.modelId);
    for (const change of changes) {
      const id = String(change.itemId);
      if (change.op === 'del') {
        this.hnsw.remove(id);
        this.collectionOf.delete(change.itemId);
        this.vectors.delete(change.itemId);
      } else if (change.vector && !this.hnsw.has(id)) {
        // An item's vector for a given model never changes, so a present id is already right.
        this.hnsw.add(id, change.vector);
        this.collectionOf.set(change.itemId, change.collectionId);
        this.vectors.set(change.itemId, change.vector);
      }
      this.watermarkSeq = change.seq;
    }
    this.stamp = stamp;
    return changes.length;
  }

  /** Writes a snapshot at the current watermark (atomic; an older snapshot stays valid until replaced). */
  async save(force = false): Promise<void> {
    if (this.saving || (!force && this.savedSeq === this.watermarkSeq)) return;
    this.saving = true;
    try {
      const seq = this.watermarkSeq;
      await this.hnsw.saveSnapshot(ItemIndex.snapshotBase(this.options), seq);
      this.savedSeq = seq;
    } finally {
      this.saving = false;
    }
  }

  /**
   * Rewrites the snapshot when its files were deleted or altered since this process wrote or loaded
   * them, so a crash later still starts from a whole one. Returns what was wrong, or null.
   */
  async repairSnapshot(): Promise<'missing' | 'changed' | null> {
    const problem = await this.hnsw.snapshotTampered();
    if (problem !== null) await this.save(true);
    return problem;
  }

  /** Saves when more than `changes` log entries are not in the snapshot, bounding replay after a crash. */
  async saveIfBehind(changes: number): Promise<void> {
    if (this.watermarkSeq - this.savedSeq > changes) await this.save();
  }

  get watermark(): number {
    return this.watermarkSeq;
  }

  size(): number {
    return this.hnsw.size();
  }

  has(itemId: number): boolean {
    return this.hnsw.has(String(itemId));
  }

  async count(): Promise<number> {
    return this.size();
  }

  async holds(itemId: number): Promise<boolean> {
    return this.has(itemId);
  }

  async describe(): Promise<string> {
    return `${this.size()} images in this process's HNSW index, watermark ${this.watermarkSeq}`;
  }

  /**
   * Items' vectors as kept for re-ranking (int8: cosines within 1e-3), as one query's batch of dot
   * products; items not in the index are left out.
   */
  async vectorsOf(itemIds: readonly number[]): Promise<CandidateVectors> {
    return this.vectors.batch(itemIds);
  }

  /** The stored (float32) vector of an item in the index, for "more like this"; undefined when absent. */
  async itemVector(itemId: number): Promise<Float32Array | undefined> {
    return this.hnsw.vector(String(itemId));
  }

  /** Top-k items by cosine, optionally restricted to some collections. Higher score = better. */
  async search(query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ItemHit[]> {
    const filter = collectionIds ? (id: string) => collectionIds.has(this.collectionOf.get(Number(id)) ?? -1) : undefined;
    return this.hnsw.search(query, k, filter).map((h: VectorHit) => ({ itemId: Number(h.id), score: h.score }));
  }
}
