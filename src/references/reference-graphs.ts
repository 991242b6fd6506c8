/**
 * Where the entities' fused reference vectors are searched (which entity's text or photo reference
 * best matches a query): the reference index of References, whichever engine keeps it.
 *
 * - Embedded (SQLite): two HNSW graphs in this process, saved as snapshots to spare a rebuild.
 * - PostgreSQL: a pgvector column with one HNSW index per model and modality, in the database, so the
 *   processes share one index instead of each holding its own (DatabaseReferenceGraphs).
 *
 * Either way the references themselves (what refinement scores with) stay in the process's memory:
 * this is only their index.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { HnswIndex } from '../index/hnsw-index.js';
import { modelSlug } from '../index/item-index.js';

export type Modality = 'text' | 'image';
export const MODALITIES: readonly Modality[] = ['text', 'image'];

export interface ReferenceGraphs {
  /**
   * Stores an entity's reference of one modality, or drops it (null). `basedOn` is the entity-log seq
   * the reference was computed at (or after): a store shared by several processes keeps the newest.
   * Takes effect at `flush` at the latest.
   */
  put(modality: Modality, entity: { id: number; collectionId: number }, vector: Float32Array | null, basedOn: number): void;
  /** Writes what `put` left pending. */
  flush(): Promise<void>;
  /** Entities whose reference of this modality best matches q, best first, optionally within collections. */
  search(modality: Modality, q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<number[]>;
  /** Entity ids with a stored reference of this modality (at open: dropping what is no longer live). */
  ids(modality: Modality): Promise<number[]>;
  /** True while the graphs cannot change (a snapshot is being written): changes wait for the next catch-up. */
  readonly busy: boolean;
  /** Writes snapshots where the engine keeps them. */
  save(watermark: number): Promise<void>;
  /** Rewrites snapshots deleted or altered under the process; what was wrong, or null. */
  repair(watermark: number): Promise<'missing' | 'changed' | null>;
}

/**
 * Shape of the in-process reference graphs: a query takes the top 16 entities, and a near miss among
 * them costs little, while these searches run right after the encoder has flushed the CPU caches,
 * where every node visited is a cache miss. Measured on the refine-speed bench's 10k entities (400
 * queries, recall@16 against an exact scan, warm): M 16 / ef 16 → 0.999 (text) and 0.997 (photo) at
 * 104 and 121 µs; M 8 / ef 20 → 0.999 and 0.995 at 89 and 75 µs; M 8 / ef 16 → 0.998 and 0.985.
 */
const REFERENCE_M = 8;
const REFERENCE_EF = 20;

export interface HnswReferenceOptions {
  /** Folder of the index snapshots; none are read or written without it. */
  dir?: string;
  modelId: string;
  dim: number;
  efConstruction: number;
}

/** The embedded engine's reference index: two HNSW graphs in this process, with snapshots. */
export class HnswReferenceGraphs implements ReferenceGraphs {
  private readonly collectionOf = new Map<number, number>();
  /** Graph changes since the snapshots were written or loaded. */
  private dirty = false;
  /** While a snapshot is written the graphs are read-only. */
  private saving = false;

  private constructor(
    private readonly options: HnswReferenceOptions,
    private readonly graphs: Record<Modality, HnswIndex>,
  ) {}

  static async open(options: HnswReferenceOptions): Promise<HnswReferenceGraphs> {
    const load = async (modality: Modality): Promise<HnswIndex> => {
      const base = HnswReferenceGraphs.snapshotBase(options, modality);
      if (base) {
        try {
          return (await HnswIndex.loadSnapshot(base, { dim: options.dim, efSearch: REFERENCE_EF })).index;
        } catch {
          // Missing or damaged: built afresh as the references are computed.
        }
      }
      return HnswIndex.create({ dim: options.dim, m: REFERENCE_M, efConstruction: options.efConstruction, efSearch: REFERENCE_EF });
    };
    return new HnswReferenceGraphs(options, { text: await load('text'), image: await load('image') });
  }

  private static snapshotBase(options: HnswReferenceOptions, modality: Modality): string | null {
    return options.dir ? path.join(options.dir, modelSlug(options.modelId), `references-${modality}`) : null;
  }

  /** True while a snapshot is being written: References then leaves its changes for the next catch-up. */
  get busy(): boolean {
    return this.saving;
  }

  put(modality: Modality, entity: { id: number; collectionId: number }, vector: Float32Array | null): void {
    const graph = this.graphs[modality];
    const id = String(entity.id);
    this.collectionOf.set(entity.id, entity.collectionId);
    if (!vector) {
      if (graph.remove(id)) this.dirty = true;
      return;
    }
    // A snapshot may already hold it: then a restart rebuilds nothing.
    const held = graph.vector(id);
    if (held && held.every((x, i) => Math.abs(x - vector[i]!) < 1e-6)) return;
    graph.add(id, vector);
    this.dirty = true;
  }

  async flush(): Promise<void> {}

  async search(modality: Modality, q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<number[]> {
    const filter = collectionIds && ((id: string) => collectionIds.has(this.collectionOf.get(Number(id)) ?? -1));
    return this.graphs[modality].search(q, k, filter).map((h) => Number(h.id));
  }

  async ids(modality: Modality): Promise<number[]> {
    return this.graphs[modality].ids().map(Number);
  }

  async save(watermark: number): Promise<void> {
    if (!this.dirty || this.saving) return;
    this.saving = true;
    try {
      for (const modality of MODALITIES) {
        const base = HnswReferenceGraphs.snapshotBase(this.options, modality);
        if (base) await this.graphs[modality].saveSnapshot(base, watermark);
      }
      this.dirty = false;
    } finally {
      this.saving = false;
    }
  }

  async repair(watermark: number): Promise<'missing' | 'changed' | null> {
    const problems = await Promise.all(MODALITIES.map((m) => this.graphs[m].snapshotTampered()));
    const problem = problems.find((p) => p !== null) ?? null;
    if (problem !== null) {
      this.dirty = true;
      await this.save(watermark);
    }
    return problem;
  }
}

/** One stored reference: what a database keeps per entity, model and modality. */
export interface StoredReference {
  entityId: number;
  collectionId: number;
  modality: Modality;
  /** Null: the entity has no reference of this modality (any stored one goes). */
  vector: Float32Array | null;
  basedOn: number;
}

/** What a catalogue that stores and searches reference vectors itself offers (PgCatalog). */
export interface ReferenceVectorStore {
  /** Stores or drops these references in one transaction; a row computed at an older seq than the stored one is left alone. */
  putReferences(modelId: string, rows: readonly StoredReference[]): Promise<void>;
  /** Every stored reference of the model. */
  storedReferences(modelId: string): Promise<Array<{ entityId: number; modality: Modality; vector: Float32Array }>>;
  /** Entities of the model whose reference of this modality is nearest q by cosine, best first. */
  searchReferences(modelId: string, modality: Modality, q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<number[]>;
}

/** Identifies a vector's exact value in little memory. */
function fingerprint(vector: Float32Array): string {
  return createHash('sha1').update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength)).digest('base64');
}

/**
 * The reference index in the database (PostgreSQL + pgvector). Every process computes the same
 * references from the same rows. At open it writes only those that differ from what is stored (it
 * reads fingerprints of the stored vectors first), so starting a server rewrites nothing when nothing
 * changed; afterwards it writes every reference it recomputes (its fingerprints would be stale once
 * another process wrote). Each row carries the entity-log seq it was computed at, so a slower
 * process never overwrites a newer reference with an older one.
 */
export class DatabaseReferenceGraphs implements ReferenceGraphs {
  private pending = new Map<string, StoredReference>();

  private constructor(
    private readonly store: ReferenceVectorStore,
    private readonly modelId: string,
    /** modality:entityId → fingerprint of the stored vector, as read at open. */
    private readonly stored: Map<string, string>,
    /** The entity-log seq at open: references computed at it may be skipped when unchanged. */
    private readonly openSeq: number,
  ) {}

  /** `seq`: the entity-log seq the opening process computes its references at (read before this). */
  static async open(store: ReferenceVectorStore, modelId: string, seq: number): Promise<DatabaseReferenceGraphs> {
    const rows = await store.storedReferences(modelId);
    return new DatabaseReferenceGraphs(store, modelId, new Map(rows.map((r) => [`${r.modality}:${r.entityId}`, fingerprint(r.vector)])), seq);
  }

  get busy(): boolean {
    return false;
  }

  put(modality: Modality, entity: { id: number; collectionId: number }, vector: Float32Array | null, basedOn: number): void {
    const key = `${modality}:${entity.id}`;
    if (basedOn <= this.openSeq && (vector && fingerprint(vector)) === (this.stored.get(key) ?? null)) {
      this.pending.delete(key);
      return;
    }
    this.pending.set(key, { entityId: entity.id, collectionId: entity.collectionId, modality, vector, basedOn });
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    await this.store.putReferences(this.modelId, rows);
    for (const r of rows) {
      const key = `${r.modality}:${r.entityId}`;
      if (r.vector) this.stored.set(key, fingerprint(r.vector));
      else this.stored.delete(key);
    }
  }

  search(modality: Modality, q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<number[]> {
    return this.store.searchReferences(this.modelId, modality, q, k, collectionIds);
  }

  async ids(modality: Modality): Promise<number[]> {
    return [...this.stored.keys()].filter((k) => k.startsWith(`${modality}:`)).map((k) => Number(k.slice(modality.length + 1)));
  }

  async save(): Promise<void> {}

  async repair(): Promise<null> {
    return null;
  }
}
