/**
 * HnswIndex: the approximate VectorIndex, on hnswlib-node. This is the only file that imports
 * hnswlib-node, so its quirks stay here: plain Arrays in, uint32 labels, `ef` not persisted,
 * `getCurrentCount()` counting deleted points, a fixed capacity that must be resized.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { HierarchicalNSW } from 'hnswlib-node';
import { syncDir, writeDurably } from '../durable-fs.js';
import { asDiskError } from '../errors.js';
import { checkDim } from './exact-index.js';
import {
  corrupt,
  sealGraphFile,
  SIDECAR_FORMAT,
  SIDECAR_VERSION,
  snapshotPaths,
  snapshotStamp,
  verifySnapshotFiles,
  type Sidecar,
} from './hnsw-snapshot-files.js';
import type { VectorHit, VectorIndex } from './vector-index.js';

/**
 * hnswlib-node takes a plain Array. One refined search asks three graphs (images, text and photo
 * references) with the same query vector: it is converted once. Query vectors are never modified
 * after they are made, which is what makes caching by identity safe.
 */
const asArrayCache = new WeakMap<Float32Array, number[]>();
function asArray(query: Float32Array): number[] {
  let array = asArrayCache.get(query);
  if (!array) asArrayCache.set(query, (array = Array.from(query)));
  return array;
}

export interface HnswOptions {
  dim: number;
  /** Initial number of slots; the graph grows by 1.5× when full. Default 1024. */
  capacity?: number;
  /** Graph degree. Default 16. */
  m?: number;
  /** Build-time beam width: higher = better graph, slower adds. Default 200. */
  efConstruction?: number;
  /** Query-time beam width; raised to k for a query that asks for more. Default 64. */
  efSearch?: number;
}

/** Fraction of deleted slots above which adds reuse them instead of growing the graph. */
const TOMBSTONE_LIMIT = 0.3;

/**
 * HNSW over unit vectors with space 'ip' (score = 1 - distance = dot product).
 *
 * String ids map to numeric labels. Removing an id marks its label deleted (a tombstone: it stays
 * in the graph for routing but never comes back); re-adding an id marks the old label deleted and
 * adds under a new one. Tombstones are left alone until they pass 30% of the slots; from then on
 * adds revive them (hnswlib unmarks the slot and re-links it to the new vector), which bounds the
 * waste under churn without a rebuild. A revive costs several plain inserts, hence the threshold.
 * Not compacted on save: the index is a cache of SQLite, so a rebuild is the remedy if needed.
 *
 * Not re-entrant with its own snapshot: `add`/`remove` throw while `saveSnapshot` has the native
 * writer running (it reads the graph on a worker thread). Searches are allowed meanwhile.
 */
export class HnswIndex implements VectorIndex {
  readonly dim: number;
  private ef: number;
  private readonly labelOf = new Map<string, number>();
  private readonly freeLabels: number[] = [];
  private currentEf = -1;
  private writing = false;
  private saving = false;
  /** The snapshot this graph was last written to or loaded from, and its files' stamp then. */
  private snapshot: { basePath: string; stamp: string | null } | null = null;

  private constructor(
    private readonly graph: HierarchicalNSW,
    private readonly labels: Array<string | null>,
    private readonly params: { dim: number; m: number; efConstruction: number; efSearch: number },
  ) {
    this.dim = params.dim;
    this.ef = params.efSearch;
    labels.forEach((id, label) => (id === null ? this.freeLabels.push(label) : this.labelOf.set(id, label)));
  }

  /** An empty index. */
  static create(opts: HnswOptions): HnswIndex {
    const { dim, capacity = 1024, m = 16, efConstruction = 200, efSearch = 64 } = opts;
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
    const graph = new hnswlib.HierarchicalNSW('ip', dim);
    graph.initIndex({ maxElements: Math.max(16, capacity), m, efConstruction });
    return new HnswIndex(graph, [], { dim, m, efConstruction, efSearch });
  }

  size(): number {
    return this.labelOf.size;
  }

  has(id: string): boolean {
    return this.labelOf.has(id);
  }

  /** Copies `vector` (must be unit length). Throws MODEL_MISMATCH on a wrong length. */
  add(id: string, vector: Float32Array): void {
    checkDim(this.dim, vector);
    this.assertNotWriting();
    const old = this.labelOf.get(id);
    if (old !== undefined) this.retire(id, old);
    // Reviving a slot (hnswlib's updatePoint) costs several plain inserts, so only do it once
    // tombstones pass TOMBSTONE_LIMIT of the slots; below that, append and let them sit.
    const reused = this.freeLabels.length > TOMBSTONE_LIMIT * this.labels.length ? this.freeLabels.pop() : undefined;
    const label = reused ?? this.labels.length;
    if (reused === undefined) this.ensureCapacity(label + 1);
    try {
      // With a deleted label, hnswlib's addPoint unmarks it and re-links it to the new vector.
      this.graph.addPoint(Array.from(vector), label);
    } catch (err) {
      if (reused !== undefined) this.freeLabels.push(reused);
      throw err;
    }
    this.labels[label] = id;
    this.labelOf.set(id, label);
  }

  remove(id: string): boolean {
    const label = this.labelOf.get(id);
    if (label === undefined) return false;
    this.assertNotWriting();
    this.retire(id, label);
    return true;
  }

  /**
   * Top-k by dot product, best first. k is clamped to the live count and ef is raised to k.
   * With a selective `filter` HNSW may return fewer than k hits even when more exist.
   */
  search(query: Float32Array, k: number, filter?: (id: string) => boolean): VectorHit[] {
    checkDim(this.dim, query);
    const want = Math.min(Math.floor(k), this.labelOf.size);
    if (!(want > 0)) return []; // also catches a NaN k
    const ef = Math.max(this.ef, want);
    if (ef !== this.currentEf) {
      this.graph.setEf(ef);
      this.currentEf = ef;
    }
    const byLabel =
      filter &&
      ((label: number): boolean => {
        const id = this.labels[label];
        return id != null && filter(id);
      });
    const { distances, neighbors } = this.graph.searchKnn(asArray(query), want, byLabel);
    const hits: VectorHit[] = [];
    neighbors.forEach((label, i) => {
      const id = this.labels[label];
      if (id != null) hits.push({ id, score: 1 - distances[i]! });
    });
    return hits.sort((a, b) => b.score - a.score);
  }

  /** A copy of the stored vector, or undefined for an unknown id. */
  vector(id: string): Float32Array | undefined {
    const label = this.labelOf.get(id);
    return label === undefined ? undefined : Float32Array.from(this.graph.getPoint(label));
  }

  ids(): string[] {
    return [...this.labelOf.keys()];
  }

  /** Query beam width (ef is not stored in snapshots; set it after loading). Higher = better recall, slower. */
  setEfSearch(ef: number): void {
    if (!Number.isInteger(ef) || ef <= 0) throw new RangeError(`efSearch must be a positive integer, got ${ef}`);
    this.ef = ef;
  }

  get efSearch(): number {
    return this.ef;
  }

  /** Slots in the graph: live + deleted (reusable) + free capacity. */
  stats(): { live: number; deleted: number; capacity: number } {
    return { live: this.labelOf.size, deleted: this.freeLabels.length, capacity: this.graph.getMaxElements() };
  }

  /**
   * Writes `<basePath>.hnsw` and `<basePath>.json` so that a reader sees the old pair, the new pair,
   * or (after a crash between the two renames) a pair whose checksum disagrees, never a torn file
   * under the final names. `watermark` is stored as is for the caller's replay. ENOSPC -> DISK_FULL.
   */
  async saveSnapshot(basePath: string, watermark: number): Promise<void> {
    if (this.saving) throw new Error('HnswIndex: a snapshot is already being saved; serialise saves');
    const paths = snapshotPaths(basePath);
    const labels = [...this.labels];
    // Both flags go up synchronously, so no add can slip in between `labels` and the graph file.
    this.saving = this.writing = true;
    try {
      await mkdir(dirname(basePath), { recursive: true });
      await this.graph.writeIndex(paths.hnswTmp);
      this.writing = false;
      const { bytes, sha256 } = await sealGraphFile(paths.hnswTmp);
      const { dim, m, efConstruction } = this.params;
      const sidecar: Sidecar = {
        ...{ format: SIDECAR_FORMAT, version: SIDECAR_VERSION, dim, space: 'ip', m, efConstruction, watermark },
        ...{ live: this.labelOf.size, labels, hnswBytes: bytes, hnswSha256: sha256 },
      };
      await writeDurably(paths.jsonTmp, JSON.stringify(sidecar));
      await rename(paths.hnswTmp, paths.hnsw);
      await rename(paths.jsonTmp, paths.json);
      await syncDir(dirname(basePath));
      this.snapshot = { basePath, stamp: await snapshotStamp(basePath) };
    } catch (err) {
      await Promise.all([rm(paths.hnswTmp, { force: true }), rm(paths.jsonTmp, { force: true })]);
      throw asDiskError(err, 'the vector index snapshot');
    } finally {
      this.saving = this.writing = false;
    }
  }

  /**
   * Loads a snapshot written by `saveSnapshot`, verifying it end to end. Any problem (missing file,
   * bad sidecar, other dim, size or checksum mismatch, unreadable graph, counts that disagree)
   * throws INDEX_CORRUPT with `details.reason`; the caller rebuilds from the catalog.
   */
  static async loadSnapshot(
    basePath: string,
    expect: { dim: number; efSearch?: number },
  ): Promise<{ index: HnswIndex; watermark: number }> {
    const paths = snapshotPaths(basePath);
    const sidecar = await verifySnapshotFiles(basePath, expect.dim);
    const graph = new hnswlib.HierarchicalNSW('ip', expect.dim);
    await graph.readIndex(paths.hnsw).catch((err: unknown) => {
      throw corrupt('unreadable', paths.hnsw, err);
    });
    if (graph.getCurrentCount() !== sidecar.labels.length || graph.getNumDimensions() !== expect.dim) {
      throw corrupt('count-mismatch', paths.hnsw);
    }
    const { dim, m, efConstruction } = sidecar;
    const index = new HnswIndex(graph, sidecar.labels, { dim, m, efConstruction, efSearch: expect.efSearch ?? 64 });
    index.snapshot = { basePath, stamp: await snapshotStamp(basePath) };
    return { index, watermark: sidecar.watermark };
  }

  /**
   * Whether the snapshot this graph was last written to or loaded from is still as it was:
   * 'missing' or 'changed' when someone deleted or altered its files since (a cheap stat, no read),
   * null when intact or when there is no snapshot yet.
   */
  async snapshotTampered(): Promise<'missing' | 'changed' | null> {
    if (this.snapshot === null || this.saving) return null;
    const now = await snapshotStamp(this.snapshot.basePath);
    if (now === this.snapshot.stamp) return null;
    if (now === null) return 'missing';
    // Another process (a `referent ingest` beside the server) may have saved a whole snapshot of its
    // own: one that its sidecar vouches for (size and checksum) is kept, not reported.
    if (await verifySnapshotFiles(this.snapshot.basePath, this.dim).then(() => true, () => false)) {
      this.snapshot.stamp = now;
      return null;
    }
    return 'changed';
  }

  private retire(id: string, label: number): void {
    this.graph.markDelete(label);
    this.labels[label] = null;
    this.labelOf.delete(id);
    this.freeLabels.push(label);
  }

  /** Grows geometrically so n adds cost O(log n) resizes (each one copies the graph). */
  private ensureCapacity(needed: number): void {
    const capacity = this.graph.getMaxElements();
    if (needed > capacity) this.graph.resizeIndex(Math.max(needed, Math.ceil(capacity * 1.5)));
  }

  private assertNotWriting(): void {
    if (this.writing) throw new Error('HnswIndex: add/remove while a snapshot is being written; serialise them');
  }
}
