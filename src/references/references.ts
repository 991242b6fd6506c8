/**
 * The multi-modal references of every live entity, kept current, and the reference index (HNSW over
 * the text references and over the photo references) that lets an entity whose reference matches a
 * query bring its images in as candidates.
 *
 * Built from the catalogue at open; afterwards only the entities the catalogue's entity log names
 * are recomputed (`catchUp`), so an add, describe, confirm, reject or forget by this process or
 * another one takes effect on the next query. The catalogue is the truth: the two reference graphs
 * are saved as snapshots only to spare rebuilding them (seconds at 10k entities); at open every
 * reference is recomputed and any that a snapshot lacks or holds differently is re-added.
 */
import path from 'node:path';
import type { Catalog, Entity, EntityMaterial } from '../catalog/catalog.js';
import { HnswIndex } from '../index/hnsw-index.js';
import { modelSlug } from '../index/item-index.js';
import type { FusionOptions } from '../method/fusion.js';
import { mergeEntityHits } from '../method/pipeline.js';
import { buildReference, type BuiltReference } from '../method/reference.js';
import { ErrorCode, isReferentError } from '../errors.js';
import { silentProgress, type Progress } from '../progress.js';

export interface ReferenceEntry {
  entity: Entity;
  ref: BuiltReference;
  /** What the reference was built from (for explanations: which photo or description matched). */
  material: EntityMaterial;
}

export interface ReferencesOptions {
  catalog: Catalog;
  /** Folder of the index snapshots (index-data/index); none are read or written without it. */
  dir?: string;
  modelId: string;
  dim: number;
  fusion: FusionOptions;
  /** The build beam of the image index; the reference graphs have their own degree and search beam (below). */
  hnsw: { efConstruction: number };
  progress?: Progress;
}

type Modality = 'text' | 'image';

/**
 * Shape of the reference graphs: a query takes the top 16 entities, and a near miss among them
 * costs little, while these searches run right after the encoder has flushed the CPU caches, where
 * every node visited is a cache miss. Measured on the refine-speed bench's 10k entities (400
 * queries, recall@16 against an exact scan, warm): M 16 / ef 16 → 0.999 (text) and 0.997 (photo)
 * at 104 and 121 µs; M 8 / ef 20 → 0.999 and 0.995 at 89 and 75 µs; M 8 / ef 16 → 0.998 and 0.985.
 */
const REFERENCE_M = 8;
const REFERENCE_EF = 20;

export class References {
  private readonly entries = new Map<number, ReferenceEntry>();
  private readonly entityOfItem = new Map<number, number>();
  private watermark = 0;
  /** The catalogue's change stamp when the entity log was last read. */
  private stamp = '';
  /** Graph changes since the snapshot was written or loaded. */
  private dirty = false;
  /** While a snapshot is written the graphs are read-only: changes wait for the next catch-up. */
  private saving = false;

  private constructor(
    private readonly options: ReferencesOptions,
    private readonly graphs: Record<Modality, HnswIndex>,
  ) {}

  static async open(options: ReferencesOptions): Promise<References> {
    const progress = options.progress ?? silentProgress;
    const graphs = { text: await References.loadGraph(options, 'text'), image: await References.loadGraph(options, 'image') };
    const refs = new References(options, graphs);
    refs.watermark = await options.catalog.lastEntitySeq();
    const ids = await options.catalog.liveEntityIds();
    // A bar only where it takes a while (about a second per few thousand entities).
    const show = ids.length >= 2000;
    if (show) progress.start('Building entity references', ids.length, 'entities');
    for (const id of ids) {
      await refs.refresh(id);
      if (show) progress.tick(1);
    }
    if (show) progress.stop();
    // Whatever the snapshots hold that is no longer a live entity's reference goes.
    for (const modality of ['text', 'image'] as const) {
      for (const id of graphs[modality].ids()) if (!refs.entries.get(Number(id))?.ref[modality]) refs.removeFrom(modality, Number(id));
    }
    // A cache of what was just computed: on a full disk, carry on without it (shutdown tries again).
    await refs.save().catch((err: unknown) => {
      if (!isReferentError(err, ErrorCode.DiskFull)) throw err;
    });
    return refs;
  }

  private static snapshotBase(options: ReferencesOptions, modality: Modality): string | null {
    return options.dir ? path.join(options.dir, modelSlug(options.modelId), `references-${modality}`) : null;
  }

  private static async loadGraph(options: ReferencesOptions, modality: Modality): Promise<HnswIndex> {
    const base = References.snapshotBase(options, modality);
    if (base) {
      try {
        return (await HnswIndex.loadSnapshot(base, { dim: options.dim, efSearch: REFERENCE_EF })).index;
      } catch {
        // Missing or damaged: build afresh from the references below.
      }
    }
    return HnswIndex.create({ dim: options.dim, m: REFERENCE_M, efConstruction: options.hnsw.efConstruction, efSearch: REFERENCE_EF });
  }

  /** Writes the reference graphs when they changed since the last save (at open and at shutdown). */
  async save(): Promise<void> {
    if (!this.dirty || this.saving) return;
    this.saving = true;
    try {
      for (const modality of ['text', 'image'] as const) {
        const base = References.snapshotBase(this.options, modality);
        if (base) await this.graphs[modality].saveSnapshot(base, this.watermark);
      }
      this.dirty = false;
    } finally {
      this.saving = false;
    }
  }

  /** Rewrites the reference graphs' snapshots when their files were deleted or altered under this process. */
  async repairSnapshots(): Promise<'missing' | 'changed' | null> {
    const problems = await Promise.all((['text', 'image'] as const).map((m) => this.graphs[m].snapshotTampered()));
    const problem = problems.find((p) => p !== null) ?? null;
    if (problem !== null) {
      this.dirty = true;
      await this.save();
    }
    return problem;
  }

  private removeFrom(modality: Modality, entityId: number): void {
    if (this.graphs[modality].remove(String(entityId))) this.dirty = true;
  }

  /** Adds the vector unless the graph already holds it (a snapshot), so a restart rebuilds nothing. */
  private putInto(modality: Modality, entityId: number, vector: Float32Array): void {
    const held = this.graphs[modality].vector(String(entityId));
    if (held && held.every((x, i) => Math.abs(x - vector[i]!) < 1e-6)) return;
    this.graphs[modality].add(String(entityId), vector);
    this.dirty = true;
  }

  /** Recomputes the entities changed since the last call (by any process); returns how many. */
  async catchUp(): Promise<number> {
    // Read before the log, so a commit that lands in between moves it again and is read next time.
    const stamp = await this.options.catalog.changeStamp();
    if (this.saving || stamp === this.stamp) return 0;
    const changes = await this.options.catalog.entityChangesSince(this.watermark);
    for (const id of changes.entityIds) await this.refresh(id);
    this.watermark = changes.seq;
    this.stamp = stamp;
    return changes.entityIds.length;
  }

  /** Recomputes one entity's reference from the catalogue (or drops it when it is gone or empty). */
  async refresh(entityId: number): Promise<void> {
    const old = this.entries.get(entityId);
    for (const img of old?.material.images ?? []) if (this.entityOfItem.get(img.itemId) === entityId) this.entityOfItem.delete(img.itemId);
    const material = await this.options.catalog.entityMaterial(entityId, this.options.modelId);
    if (!material || (material.images.length === 0 && material.texts.length === 0)) {
      this.entries.delete(entityId);
      this.removeFrom('text', entityId);
      this.removeFrom('image', entityId);
      return;
    }
    const ref = buildReference({ entityId, images: material.images.map((i) => i.vector), texts: material.texts.map((t) => t.vector) }, this.options.fusion);
    this.entries.set(entityId, { entity: material.entity, ref, material });
    for (const img of material.images) this.entityOfItem.set(img.itemId, entityId);
    for (const modality of ['text', 'image'] as const) {
      const vector = ref[modality];
      if (vector) this.putInto(modality, entityId, vector);
      else this.removeFrom(modality, entityId);
    }
  }

  get(entityId: number): ReferenceEntry | undefined {
    return this.entries.get(entityId);
  }

  /** The entity an image is linked to, as of the last catch-up. */
  entityOf(itemId: number): number | null {
    return this.entityOfItem.get(itemId) ?? null;
  }

  /** Up to `limit` images of the entity (newest last), as of the last catch-up. */
  imagesOf(entityId: number, limit: number): number[] {
    return (this.entries.get(entityId)?.material.images ?? []).slice(-limit).map((i) => i.itemId);
  }

  /** Entities whose text or photo reference best matches q, optionally within some collections. */
  search(q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): number[] {
    const filter = collectionIds && ((id: string) => collectionIds.has(this.entries.get(Number(id))?.entity.collectionId ?? -1));
    const hits = (modality: Modality) => this.graphs[modality].search(q, k, filter).map((h) => Number(h.id));
    return mergeEntityHits(hits('text'), hits('image'), k);
  }

  size(): number {
    return this.entries.size;
  }
}
