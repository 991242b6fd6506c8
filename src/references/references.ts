/**
 * The multi-modal references of every live entity, kept current, and the reference index (HNSW over
 * the text references and over the photo references) that lets an entity whose reference matches a
 * query bring its images in as candidates.
 *
 * Built from the catalogue at open; afterwards only the entities the catalogue's entity log names
 * are recomputed (`catchUp`), so an add, describe, confirm, reject or forget by this process or
 * another one takes effect on the next query. The catalogue is the truth: the reference index
 * (reference-graphs.ts: HNSW graphs with snapshots in this process, or pgvector's index in the
 * database) only spares rebuilding; at open every reference is recomputed and any that the index
 * lacks or holds differently is put again.
 */
import type { Catalog, Entity, EntityMaterial } from '../catalog/catalog.js';
import type { FusionOptions } from '../method/fusion.js';
import { mergeEntityHits } from '../method/pipeline.js';
import { buildReference, type BuiltReference } from '../method/reference.js';
import { ErrorCode, isReferentError } from '../errors.js';
import { silentProgress, type Progress } from '../progress.js';
import { HnswReferenceGraphs, MODALITIES, type ReferenceGraphs } from './reference-graphs.js';

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
  /** The build beam of the image index; the reference graphs have their own degree and search beam (reference-graphs.ts). */
  hnsw: { efConstruction: number };
  /**
   * The reference index, opened at the entity-log seq the references are computed at. Default: HNSW
   * graphs in this process with snapshots in `dir`; on PostgreSQL, the database's (DatabaseReferenceGraphs).
   */
  graphs?: (seq: number) => Promise<ReferenceGraphs>;
  progress?: Progress;
}

/** Entities whose references are computed at once when opening. */
const OPEN_CONCURRENCY = 8;

export class References {
  private readonly entries = new Map<number, ReferenceEntry>();
  private readonly entityOfItem = new Map<number, number>();
  private watermark = 0;
  /** The catalogue's change stamp when the entity log was last read. */
  private stamp = '';

  private constructor(
    private readonly options: ReferencesOptions,
    private readonly graphs: ReferenceGraphs,
  ) {}

  static async open(options: ReferencesOptions): Promise<References> {
    const progress = options.progress ?? silentProgress;
    const watermark = await options.catalog.lastEntitySeq();
    const open = options.graphs ?? ((): Promise<ReferenceGraphs> => HnswReferenceGraphs.open({ ...(options.dir ? { dir: options.dir } : {}), modelId: options.modelId, dim: options.dim, efConstruction: options.hnsw.efConstruction }));
    const refs = new References(options, await open(watermark));
    refs.watermark = watermark;
    const ids = await options.catalog.liveEntityIds();
    // A bar only where it takes a while (about a second per few thousand entities).
    const show = ids.length >= 2000;
    if (show) progress.start('Building entity references', ids.length, 'entities');
    // A few at a time: on PostgreSQL each entity's material is a few round trips, which overlap.
    for (let i = 0; i < ids.length; i += OPEN_CONCURRENCY) {
      const chunk = ids.slice(i, i + OPEN_CONCURRENCY);
      await Promise.all(chunk.map((id) => refs.refresh(id, watermark)));
      if (show) progress.tick(chunk.length);
    }
    if (show) progress.stop();
    // Whatever the index holds that is no longer a live entity's reference goes.
    for (const modality of MODALITIES) {
      for (const id of await refs.graphs.ids(modality)) {
        const entry = refs.entries.get(id);
        if (!entry?.ref[modality]) refs.graphs.put(modality, { id, collectionId: entry?.entity.collectionId ?? 0 }, null, watermark);
      }
    }
    await refs.graphs.flush();
    // A cache of what was just computed: on a full disk, carry on without it (shutdown tries again).
    await refs.save().catch((err: unknown) => {
      if (!isReferentError(err, ErrorCode.DiskFull)) throw err;
    });
    return refs;
  }

  /** Writes the reference index's snapshots when it changed since the last save (at open and at shutdown). */
  async save(): Promise<void> {
    await this.graphs.save(this.watermark);
  }

  /** Rewrites the reference index's snapshots when their files were deleted or altered under this process. */
  async repairSnapshots(): Promise<'missing' | 'changed' | null> {
    return this.graphs.repair(this.watermark);
  }

  /** Recomputes the entities changed since the last call (by any process); returns how many. */
  async catchUp(): Promise<number> {
    // Read before the log, so a commit that lands in between moves it again and is read next time.
    const stamp = await this.options.catalog.changeStamp();
    if (this.graphs.busy || stamp === this.stamp) return 0;
    const changes = await this.options.catalog.entityChangesSince(this.watermark);
    for (const id of changes.entityIds) await this.refresh(id, changes.seq);
    await this.graphs.flush();
    this.watermark = changes.seq;
    this.stamp = stamp;
    return changes.entityIds.length;
  }

  /**
   * Recomputes one entity's reference from the catalogue (or drops it when it is gone or empty), read
   * at entity-log seq `seq` or later. The reference index has it at the next flush.
   */
  private async refresh(entityId: number, seq: number): Promise<void> {
    const old = this.entries.get(entityId);
    for (const img of old?.material.images ?? []) if (this.entityOfItem.get(img.itemId) === entityId) this.entityOfItem.delete(img.itemId);
    const material = await this.options.catalog.entityMaterial(entityId, this.options.modelId);
    if (!material || (material.images.length === 0 && material.texts.length === 0)) {
      this.entries.delete(entityId);
      for (const modality of MODALITIES) this.graphs.put(modality, { id: entityId, collectionId: old?.entity.collectionId ?? material?.entity.collectionId ?? 0 }, null, seq);
      return;
    }
    const ref = buildReference({ entityId, images: material.images.map((i) => i.vector), texts: material.texts.map((t) => t.vector) }, this.options.fusion);
    this.entries.set(entityId, { entity: material.entity, ref, material });
    for (const img of material.images) this.entityOfItem.set(img.itemId, entityId);
    for (const modality of MODALITIES) this.graphs.put(modality, { id: entityId, collectionId: material.entity.collectionId }, ref[modality] ?? null, seq);
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
  async search(q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<number[]> {
    const [byText, byImage] = await Promise.all(MODALITIES.map((m) => this.graphs.search(m, q, k, collectionIds)));
    return mergeEntityHits(byText!, byImage!, k);
  }

  size(): number {
    return this.entries.size;
  }
}
